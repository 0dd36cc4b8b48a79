# A matrix's cells (rows) against their key tests (columns), coloured by the
# key metric (one box each): its level relative to the best cell of its column (a run), or
# its change between the sides (a comparison). A skipped cell is blank.
# Columns of $data: column, row, colour (NaN: none), label.
# Filled in: TITLE, OUT, DATA, W, H, XTICS, YTICS, XMAX, YMAX, CBMIN, CBMAX, CBLABEL, PALETTE.
$data << EOD
@DATA@
EOD
set terminal svg size @W@,@H@ dynamic enhanced font "sans,11" background "white"
set output "@OUT@"
set title "@TITLE@" noenhanced
set xtics (@XTICS@) noenhanced rotate by -15
set ytics (@YTICS@) noenhanced
set xrange [-0.5:@XMAX@]
set yrange [@YMAX@:-0.5]
set cbrange [@CBMIN@:@CBMAX@]
set cblabel "@CBLABEL@" noenhanced
set palette defined (@PALETTE@)
set tics scale 0
set lmargin at screen 0.5
set style fill solid 1.0 noborder
unset key
plot $data using 1:2:($1-0.5):($1+0.5):($2-0.5):($2+0.5):3 with boxxy fc palette, \
     $data using 1:2:4 with labels font ",9"
