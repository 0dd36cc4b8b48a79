# Latency of an rr/crr workload: the distribution mptcpload measured in each
# run (percentiles 1 to 99.9 of its histogram), as a cumulative distribution,
# one line per run, per side.
# Columns of $data: latency (us), cumulative share, side index. Filled in:
# TITLE, BASE, CAND, OUT, DATA.
$data << EOD
@DATA@
EOD
set terminal svg size 700,420 dynamic enhanced font "sans,11" background "white"
set output "@OUT@"
set title "@TITLE@" noenhanced
set xlabel "latency (us)"
set ylabel "share of transactions"
set logscale x
set yrange [0:1]
set grid
set key bottom right
plot $data using 1:($3 == 0 ? $2 : 1/0) with linespoints pt 7 title "@BASE@" noenhanced, \
     $data using 1:($3 == 1 ? $2 : 1/0) with linespoints pt 5 title "@CAND@" noenhanced
