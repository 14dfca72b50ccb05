// SPDX-License-Identifier: MIT
// goserver: the seccomp benchmark's Go HTTP server (net/http, built with
// CGO_ENABLED=0: statically linked, raw system calls).  Usage: goserver
// PORT.  It listens on ":PORT" itself (a dual-stack [::]:PORT socket), as
// an unmodified Go server does, and answers every request with a short
// fixed body.
package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: goserver PORT")
		os.Exit(2)
	}
	body := []byte("sdadopt seccomp benchmark\n")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	})
	if err := http.ListenAndServe(":"+os.Args[1], nil); err != nil {
		fmt.Fprintln(os.Stderr, "goserver:", err)
		os.Exit(3)
	}
}
