// SPDX-License-Identifier: MIT
// go-server: a net/http server for tests/launcher, built with
// CGO_ENABLED=0 (statically linked, raw system calls: LD_PRELOAD cannot
// reach it).  Usage: go-server PORT.  It listens on ":PORT" itself, as an
// unmodified Go server does (a dual-stack [::]:PORT socket).
package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go-server PORT")
		os.Exit(2)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from go-server pid=%d\n", os.Getpid())
	})
	fmt.Printf("listening on :%s pid=%d\n", os.Args[1], os.Getpid())
	if err := http.ListenAndServe(":"+os.Args[1], nil); err != nil {
		fmt.Fprintln(os.Stderr, "go-server:", err)
		os.Exit(3)
	}
}
