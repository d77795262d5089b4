// Command procbench times whole processes the way `make bench` reports
// them: the commands run interleaved (A B C, then B C A, …) so drift in a
// shared machine's load hits them alike, and each is reported as the
// median wall time, its peak RSS, and the median of its per-round ratios to
// the first command (the baseline).
//
// Before the warm-up rounds each program's file is dropped from the page
// cache and read back in 4 KiB pages (-reload, the default; reload_linux.go
// says why), so that every program, and every build of one, is measured
// from the same state of the page cache.
//
// The same state is not the same memory: each reload puts a file's pages
// in other physical pages, and that alone moves one program's figures
// against another's by up to a tenth of the baseline from one reload to
// the next (two builds swapped places between runs of 6 × 100 rounds).
// So the rounds are split into -blocks blocks, each starting from its own
// reload and warm-up, and every figure is over all of them: one run
// averages over as many page-cache layouts as it has blocks.
//
//	procbench -n 60 'baseline=bin/baseline tok.json' 'token=STELLA_TOKEN_STORAGE=file bin/stella auth token'

package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

type bench struct {
	name string
	argv []string
	wall []time.Duration
	rss  []int64 // KiB
}

func main() {
	n := flag.Int("n", 60, "rounds")
	warm := flag.Int("warmup", 5, "untimed rounds at the start of each block")
	reloadFirst := flag.Bool("reload", true, "drop each program from the page cache and read it back before each block's warm-up rounds")
	blocks := flag.Int("blocks", 4, "blocks the rounds are split into, each from its own reload")
	flag.Parse()
	var benches []*bench
	for _, a := range flag.Args() {
		name, cmd, ok := strings.Cut(a, "=")
		if !ok || strings.TrimSpace(cmd) == "" {
			fmt.Fprintf(os.Stderr, "procbench: %q is not NAME=COMMAND\n", a)
			os.Exit(2)
		}
		benches = append(benches, &bench{name: name, argv: strings.Fields(cmd)})
	}
	if len(benches) == 0 {
		fmt.Fprintln(os.Stderr, "usage: procbench [-n N] NAME=COMMAND...")
		os.Exit(2)
	}
	*blocks = min(max(*blocks, 1), *n)
	done := 0 // timed rounds so far, which also rotates the order
	for block := range *blocks {
		if *reloadFirst {
			for _, b := range benches {
				if err := reload(program(b.argv)); err != nil {
					fmt.Fprintf(os.Stderr, "procbench: %s: %v\n", b.name, err)
					os.Exit(1)
				}
			}
		}
		rounds := (*n)*(block+1) / *blocks - done
		for round := -*warm; round < rounds; round++ {
			for i := range benches {
				b := benches[(i+done+max(round, 0))%len(benches)]
				d, rss, err := run(b.argv)
				if err != nil {
					fmt.Fprintf(os.Stderr, "procbench: %s: %v\n", b.name, err)
					os.Exit(1)
				}
				if round >= 0 {
					b.wall = append(b.wall, d)
					b.rss = append(b.rss, rss)
				}
			}
		}
		done += rounds
	}
	base := benches[0]
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "command\tmedian ms\tp10 ms\tp90 ms\tpeak RSS MiB\t× "+base.name+" (paired median)\t")
	for _, b := range benches {
		ratios := make([]float64, len(b.wall))
		for i := range b.wall {
			ratios[i] = float64(b.wall[i]) / float64(base.wall[i])
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.1f\t%.2f\t\n", b.name, ms(pct(b.wall, 50)), ms(pct(b.wall, 10)), ms(pct(b.wall, 90)),
			float64(pct(b.rss, 50))/1024, pct(ratios, 50))
	}
	_ = tw.Flush()
	// A child's peak RSS counts the memory it shared with procbench
	// between fork and exec (os/exec forks with CLONE_VM), so no figure
	// is below procbench's own: a program that small shows this floor.
	var self syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &self) == nil {
		fmt.Printf("(peak RSS floor: %.1f MiB, procbench's own; a smaller program shows the floor)\n", float64(self.Maxrss)/1024)
	}
}

// program is the file argv runs, past its leading NAME=VALUE words.
func program(argv []string) string {
	for len(argv) > 1 && strings.Contains(argv[0], "=") {
		argv = argv[1:]
	}
	if p, err := exec.LookPath(argv[0]); err == nil {
		return p
	}
	return argv[0]
}

// run starts argv once; leading NAME=VALUE words are added to its
// environment (no /usr/bin/env in between to distort the figure).
func run(argv []string) (time.Duration, int64, error) {
	env := os.Environ()
	for len(argv) > 1 && strings.Contains(argv[0], "=") {
		env, argv = append(env, argv[0]), argv[1:]
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = nil, nil
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, 0, err
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss
	}
	return d, rss, nil
}

func pct[T int64 | float64 | time.Duration](v []T, p int) T {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
