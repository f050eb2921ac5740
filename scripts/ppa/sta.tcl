# SPDX-License-Identifier: Apache-2.0
# sta.tcl: OpenSTA timing and power of one mapped netlist (scripts/ppa/ppa.sh sets the
# environment and runs `sta -exit` on this file).
#   PPA_LIB, PPA_NETLIST   liberty and the hierarchical netlist (top module mpq_top)
#   PPA_MACRO_LIB          the RAM macros' liberty (scripts/ppa/ram.py)
#   PPA_OUT                folder of the reports
#   PPA_PERIOD_NS          clock period of the timing report
#   PPA_POWER_PERIODS_NS   clock periods the power is reported at (space separated; none:
#                          timing only)
#   PPA_UNITS              units of scripts/ppa/units.tsv (cells are named <unit>_<n>, the
#                          macros <unit>_0)
#   PPA_ACTIVITY           empty: OpenSTA's default activity; or "workload=file", the file
#                          has "net activity" lines (toggles per clock cycle measured by the
#                          gate-level simulation of that workload; OpenSTA's net names).
#                          One per run: this OpenSTA keeps the activities of the first power
#                          computation, later annotations would change nothing.
# Constraints: one ideal clock on clk_i; every other input arrives, and every output is
# taken, at the clock edge (input and output delay 0: the neighbours are registers); no wire
# load (the library has no wire-load model): pin capacitances only.
# Writes: timing.rpt (the worst path of the clock group), power-<mode>.tsv (mode, period,
# unit, internal, switching, leakage, total in W; mode is `default` or the workload) and for
# a workload annotate-<mode>.tsv (nets and leaf pins annotated, lines naming no net, nets).

set out $::env(PPA_OUT)
read_liberty $::env(PPA_LIB)
read_liberty $::env(PPA_MACRO_LIB)
read_verilog $::env(PPA_NETLIST)
link_design mpq_top

proc constrain {period} {
  create_clock -name clk -period $period [get_ports clk_i]
  set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports clk_i]]
  set_output_delay 0 -clock clk [all_outputs]
}

constrain $::env(PPA_PERIOD_NS)
report_checks -path_delay max -path_group clk -format full -digits 3 > $out/timing.rpt

set corner [sta::cmd_corner]
set units $::env(PPA_UNITS)
foreach u $units { set cells($u) [get_cells -hierarchical ${u}_*] }

# One row per unit and a total, for the current activities, at every power period.
proc power_rows {mode fh} {
  global units cells corner
  foreach period $::env(PPA_POWER_PERIODS_NS) {
    constrain $period
    set tot [lrange [sta::design_power $corner] 0 3]
    puts $fh [join [concat $mode $period total $tot] "\t"]
    foreach u $units {
      set s {0.0 0.0 0.0 0.0}
      foreach i $cells($u) {
        set p [sta::instance_power $i $corner]
        set s [list [expr {[lindex $s 0] + [lindex $p 0]}] [expr {[lindex $s 1] + [lindex $p 1]}] \
                    [expr {[lindex $s 2] + [lindex $p 2]}] [expr {[lindex $s 3] + [lindex $p 3]}]]
      }
      puts $fh [join [concat $mode $period $u $s] "\t"]
    }
  }
}

# Every leaf pin on a measured net gets that net's activity (the driver for switching power,
# the loads for their input pins' internal power); duty 0.5 (the counts do not tell it; the
# library's leakage does not depend on it). The clock keeps its clock activity; nets the
# simulation does not see (inside the behavioural memories) are left to OpenSTA's propagation
# from their annotated neighbours.
proc annotate {name file} {
  global out
  set nets 0; set pins 0; set missing 0
  set af [open $file r]
  while {[gets $af line] >= 0} {
    if {[string index $line 0] eq "#" || $line eq ""} { continue }
    lassign $line net act
    set n [get_nets -quiet $net]
    if {$n eq ""} { incr missing; continue }
    incr nets
    foreach p [get_pins -of_objects $n] {
      if {![sta::Pin_is_hierarchical $p]} {
        sta::set_power_pin_activity $p $act 0.5
        incr pins
      }
    }
  }
  close $af
  set ah [open $out/annotate-$name.tsv.tmp w]
  puts $ah [join {workload nets pins unknown_names netlist_nets} "\t"]
  puts $ah [join [list $name $nets $pins $missing [llength [get_nets -hierarchical *]]] "\t"]
  close $ah
  file rename -force $out/annotate-$name.tsv.tmp $out/annotate-$name.tsv
}

proc power_report {} {
  global out
  set name default
  if {[info exists ::env(PPA_ACTIVITY)] && $::env(PPA_ACTIVITY) ne ""} {
    lassign [split $::env(PPA_ACTIVITY) =] name file
    annotate $name $file
  }
  set fh [open $out/power-$name.tsv.tmp w]
  puts $fh [join {mode period_ns unit internal_w switching_w leakage_w total_w} "\t"]
  power_rows $name $fh
  close $fh
  file rename -force $out/power-$name.tsv.tmp $out/power-$name.tsv
}

# Per-instance power at the first power period, for scripts/ppa/power.py: with OpenSTA's
# default activity, and with every pin at 0 and at 1 transition per cycle (global activity:
# set on every pin, not propagated). Each instance's power is linear in its pins' activity:
# the two give its energy per transition and its activity-independent part (clock pins,
# leakage).
proc instance_dump {} {
  global out units cells corner
  constrain [lindex $::env(PPA_POWER_PERIODS_NS) 0]
  foreach mode {default g0 g1} {
    if {$mode eq "g0"} { set_power_activity -global -activity 0 -duty 0.5 }
    if {$mode eq "g1"} { set_power_activity -global -activity 1 -duty 0.5 }
    set fh [open $out/instances-$mode.tsv.tmp w]
    foreach u $units {
      foreach i $cells($u) {
        puts $fh "[get_full_name $i]\t[join [lrange [sta::instance_power $i $corner] 0 2] "\t"]"
      }
    }
    close $fh
    file rename -force $out/instances-$mode.tsv.tmp $out/instances-$mode.tsv
  }
}

if {$::env(PPA_POWER_PERIODS_NS) ne ""} {
  if {[info exists ::env(PPA_INSTANCE_DUMP)] && $::env(PPA_INSTANCE_DUMP) ne ""} {
    instance_dump
  } else {
    power_report
  }
}
