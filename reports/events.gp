# A workload's path events in one run: the receiver's goodput (its 10 ms
# bins summed to 50 ms), each subflow's rate as its sender acked it (50 ms
# samples), the capacity the paths offer, each event a vertical line, and the
# path manager's events as marks along the bottom (client below, server
# above). Time from the start of the measured window.
# Filled in by `mptcplab report`: TITLE, OUT, NSUB (subflow columns), DATA
# (t, receiver Mbit/s), SUBS (t, one column per subflow), CAP (t, Mbit/s as
# steps), EVENTS (t, label), PM (t, row, type), PMPLOT (the path manager's
# plot clause, empty when it said nothing in the window), YMAX (the top:
# bursts the receiver's reorder queue releases at once are cut at 1.5x the
# capacity).
$data << EOD
@DATA@
EOD
$subs << EOD
@SUBS@
EOD
$cap << EOD
@CAP@
EOD
$events << EOD
@EVENTS@
EOD
$pm << EOD
@PM@
EOD
set terminal svg size 960,460 dynamic enhanced font "sans,11" background "white"
set output "@OUT@"
set title "@TITLE@" noenhanced
set xlabel "time from the window's start (s)"
set ylabel "goodput (Mbit/s)"
set key outside right top
set grid ytics
set xrange [0:*]
nsub = @NSUB@
ymax = @YMAX@
set yrange [-0.12*ymax:ymax*1.1]
plot $data using 1:2 with lines lw 2 lc rgb "black" title "receiver (50 ms)", \
     for [i=1:nsub] $subs using 1:(column(1+i)) with lines lw 1 title sprintf("subflow %d (sender)", i), \
     $cap using 1:2 with steps dt 2 lw 1.5 lc rgb "red" title "capacity", \
     $events using 1:(0):(0):(ymax*1.05) with vectors nohead dt 3 lw 1.5 lc rgb "#444444" notitle, \
     $events using 1:(ymax*1.07):2 with labels left offset 0.3,0 font ",9" notitle @PMPLOT@
