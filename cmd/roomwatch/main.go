// Command roomwatch watches a hospital machine room and its UPS.
//
//	roomwatch run     --config FILE     the monitor (collectors, spool, InfluxDB writer, rules, alarms)
//	roomwatch check   --config FILE     validate a configuration and exit
//	roomwatch probe   URL --profile P   poll one device once and print its values
//	roomwatch sim     [--config FILE]   serve simulated devices (SNMP agent, Modbus server)
//	roomwatch discover CIDR [--modbus]  find SNMP agents and Modbus TCP units, print a config snippet
//	roomwatch alarms  --config FILE     list active alarms
//	roomwatch notify  --config FILE     the notifier (SMS, WeCom, modem); notify who, notify log
//	roomwatch sink    [--listen ADDR]   print what the notifier's HTTP channels send (demo)
//	roomwatch ack     ID [--comment T]  acknowledge an alarm
//	roomwatch version                   print the version
//	roomwatch patrol  --config FILE     the patrol sign-off screen
//	roomwatch user    add NAME --role R add or change a patrol screen user
//	roomwatch audit   verify            verify the patrol audit chain
package main

import (
	"fmt"
	"io"
	"os"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

type command struct {
	name, help string
	run        func(args []string, stdout, stderr io.Writer) int
}

// commands is the table of subcommands.
func commands() []command {
	return []command{
		{"run", "run the monitor", runMonitor},
		{"check", "validate a configuration file", runCheck},
		{"probe", "poll one device once and print its decoded values", runProbe},
		{"sim", "serve simulated devices over SNMP and Modbus", runSim},
		{"discover", "find SNMP agents and Modbus TCP units on a subnet", runDiscover},
		{"alarms", "list active alarms", runAlarms},
		{"notify", "tell people of alarms (notify who: who is paged; notify log: what was sent)", runNotify},
		{"sink", "print what the notifier's HTTP channels send (a local webhook sink)", runSink},
		{"ack", "acknowledge an alarm: ack ID [--comment TEXT] [--by NAME]", runAck},
		{"version", "print the version and exit", runVersion},
		{"patrol", "serve the patrol sign-off screen", runPatrol},
		{"user", "add or change a patrol screen user", runUser},
		{"audit", "verify the patrol audit chain", runAudit},
	}
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	case "-version", "--version":
		return runVersion(nil, stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "roomwatch: unknown command %q (roomwatch --help lists them)\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: roomwatch COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.help)
	}
	fmt.Fprintln(w, "\nroomwatch COMMAND --help shows a command's flags.")
}
