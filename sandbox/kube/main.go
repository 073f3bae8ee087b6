// Command aksform-kube runs a whole Kubernetes control plane for tests from one process: an
// embedded etcd, kube-apiserver and kube-controller-manager with the controllers that namespaces,
// Services and ServiceAccounts need. Everything is Kubernetes' own code; only the wiring is here.
//
//	aksform-kube all --data-dir DIR [--secure-port N] [--exit-on-stdin-close]
//
// The bearer token comes from $AKSFORM_KUBE_TOKEN (so it never shows in a process listing) or is
// generated. When the control plane answers /readyz and its controllers run, the admin kubeconfig
// is at DIR/kubeconfig, DIR/ready holds the server URL, and one line starting with
// "aksform-kube ready" is printed. SIGTERM or SIGINT ends it at once, keeping the data folder;
// with --exit-on-stdin-close, end of file on stdin ends it and removes the folder.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// Blank imports the upstream kube-apiserver and kube-controller-manager mains carry.
import (
	_ "time/tzdata" // CronJob time zones

	_ "k8s.io/component-base/logs/json/register"          // JSON log format
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric
)

// tokenEnv names the variable that carries the admin bearer token.
const tokenEnv = "AKSFORM_KUBE_TOKEN"

func main() {
	if len(os.Args) < 2 || os.Args[1] != "all" {
		fmt.Fprintln(os.Stderr, "usage: aksform-kube all --data-dir DIR [--secure-port N] [--exit-on-stdin-close]")
		os.Exit(2)
	}
	flags := flag.NewFlagSet("aksform-kube all", flag.ExitOnError)
	dataDir := flags.String("data-dir", "", "folder for etcd data, certificates, keys and the kubeconfig (created if missing)")
	securePort := flags.Int("secure-port", 0, "loopback port of kube-apiserver; 0 picks a free one")
	exitOnStdinClose := flags.Bool("exit-on-stdin-close", false,
		"exit, removing the data folder, when standard input reaches end of file (the parent died)")
	readyTimeout := flags.Duration("ready-timeout", 3*time.Minute, "give up when not ready after this long")
	if err := flags.Parse(os.Args[2:]); err != nil {
		os.Exit(2)
	}
	if *dataDir == "" {
		fmt.Fprintln(os.Stderr, "aksform-kube: --data-dir is required")
		os.Exit(2)
	}
	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		fail(err)
	}
	if *exitOnStdinClose {
		// A parent that dies without cleaning up (SIGKILL, a crashed test) closes our stdin.
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			fmt.Fprintln(os.Stderr, "aksform-kube: standard input closed, exiting")
			_ = os.RemoveAll(dir)
			os.Exit(3)
		}()
	}
	// kube-apiserver's own handler starts a graceful shutdown that waits up to a minute for
	// open watches to drain. A throwaway control plane has nothing worth draining.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		received := <-signals
		fmt.Fprintf(os.Stderr, "aksform-kube: %v, exiting\n", received)
		os.Exit(0)
	}()
	if err := runAll(dir, *securePort, os.Getenv(tokenEnv), *readyTimeout); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "aksform-kube: %v\n", err)
	os.Exit(1)
}
