# Every repetition of one metric on each side, in run order, as points over a
# box per side (so the interleaving A B A B shows).
# Columns of $data: side index (0 base/A, 1 candidate/B), value, run order.
# Filled in: TITLE, YLABEL, BASE, CAND, OUT, DATA.
$data << EOD
@DATA@
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
plot $data using 1:2 with boxplot lc rgb "#4477aa", \
     $data using ($1 + ($3 - 10) * 0.01):2:(sprintf("%d", $3)) with labels point pt 7 ps 0.8 offset 0,0.7 font ",7"
