# Every repetition of one metric on each side, in run order, as points over a
# box per side (so the interleaving A B A B shows).
# Columns of $data: side index (0 base/A, 1 candidate/B), value, run order.
# Columns of $box: side index, first quartile, min, max, third quartile, median.
# Filled in: TITLE, YLABEL, BASE, CAND, OUT, DATA, BOX.
$data << EOD
@DATA@
EOD
$box << EOD
@BOX@
EOD
set terminal svg size 520,420 dynamic enhanced font "sans,11" background "white"
set output "@OUT@"
set title "@TITLE@" noenhanced
set ylabel "@YLABEL@" noenhanced
set xtics ("@BASE@" 0, "@CAND@" 1) noenhanced
set xrange [-0.6:1.6]
set style fill transparent solid 0.25 border
set boxwidth 0.5
set key off
set grid ytics
plot $box using 1:2:3:4:5 with candlesticks whiskerbars 0.5 lc rgb "#4477aa", \
     $box using 1:6:6:6:6 with candlesticks lt -1 lw 2, \
     $data using ($1 + ($3 - 10) * 0.01):2:(sprintf("%d", $3)) with labels point pt 7 ps 0.8 offset 0,0.7 font ",7"
