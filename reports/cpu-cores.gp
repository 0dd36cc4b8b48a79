# CPU per core of each node over a workload (user, system, softirq in % of the
# window, from the node's /proc/stat), the mean over the runs of each side.
# Columns of $data: label ("node cpuN side"), user, system, softirq. Filled in:
# TITLE, OUT, DATA.
$data << EOD
@DATA@
EOD
set terminal svg size 900,420 dynamic enhanced font "sans,11" background "white"
set output "@OUT@"
set title "@TITLE@" noenhanced
set ylabel "% of the window"
set yrange [0:100]
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.7
set xtics rotate by -30 noenhanced
set key outside right top
set grid ytics
plot $data using 2:xtic(1) title "user", '' using 3 title "system", '' using 4 title "softirq"
