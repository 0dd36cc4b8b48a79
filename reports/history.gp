# A metric of one workload over the runs of a topology in the database, in run
# order; runs that belong to a baseline are marked.
# Columns of $data: run order, value, in a baseline (0/1). Filled in: TITLE,
# YLABEL, OUT, DATA.
$data << EOD
@DATA@
EOD
set terminal svg size 900,380 dynamic enhanced font "sans,11" background "white"
set output "@OUT@"
set title "@TITLE@" noenhanced
set xlabel "run (oldest first)"
set ylabel "@YLABEL@" noenhanced
set grid ytics
set key outside right top
plot $data using 1:2 with linespoints pt 7 ps 0.6 lc rgb "#4477aa" title "runs", \
     $data using 1:($3 > 0 ? $2 : 1/0) with points pt 6 ps 1.8 lw 2 lc rgb "#cc3311" title "baseline"
