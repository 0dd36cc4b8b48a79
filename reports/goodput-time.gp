# Goodput over time of one workload of one run: each subflow's share stacked
# (from mptcpload's per-subflow bytes; iperf3 has the aggregate only), the
# aggregate as a line, the shaped capacity dashed, the warm-up shaded.
# Columns of $data: t (s), aggregate (Mbit/s), then one column per subflow.
# Filled in by `mptcplab report`: TITLE, WARMUP (s), CAPACITY (Mbit/s,
# 0: unshaped), NSUB (subflow columns), OUT (the SVG), DATA.
$data << EOD
@DATA@
EOD
set terminal svg size 900,420 dynamic enhanced font "sans,11" background "white"
set output "@OUT@"
set title "@TITLE@" noenhanced
set xlabel "time (s)"
set ylabel "goodput (Mbit/s)"
set key outside right top
set grid ytics
set yrange [0:*]
set xrange [0:*]
warmup = @WARMUP@
capacity = @CAPACITY@
nsub = @NSUB@
set object 1 rectangle from graph 0, graph 0 to first warmup, graph 1 behind fillcolor rgb "#eeeeee" fillstyle solid noborder
set label 1 "warm-up" at first warmup/2, graph 0.95 center
stack(n) = (sum [k=1:n] column(2+k))
plot for [i=nsub:1:-1] $data using 1:(stack(i)) with filledcurves x1 title sprintf("subflow %d", i), \
     $data using 1:2 with linespoints lw 2 lc rgb "black" title "aggregate", \
     (capacity > 0 ? capacity : 1/0) with lines dt 2 lc rgb "red" title "shaped capacity"
