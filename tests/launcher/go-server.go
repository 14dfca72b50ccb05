// SPDX-License-Identifier: MIT
// go-server: a net/http server for tests/launcher, built with
// CGO_ENABLED=0 (statically linked, raw system calls: LD_PRELOAD cannot
// reach it).  Usage: go-server PORT.  It listens on ":PORT" itself, as an
// unmodified Go server does (a dual-stack [::]:PORT socket).  GET
// /outbound/Q makes an outbound connection to 127.0.0.1:Q while serving and
// answers "outbound got=LINE" with the first line read from it.
package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go-server PORT")
		os.Exit(2)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from go-server pid=%d\n", os.Getpid())
	})
	http.HandleFunc("/outbound/", func(w http.ResponseWriter, r *http.Request) {
		c, err := net.Dial("tcp", "127.0.0.1:"+strings.TrimPrefix(r.URL.Path, "/outbound/"))
		if err != nil {
			fmt.Fprintf(w, "outbound error=%v\n", err)
			return
		}
		defer c.Close()
		line, _ := bufio.NewReader(c).ReadString('\n')
		fmt.Fprintf(w, "outbound got=%s\n", strings.TrimSuffix(line, "\n"))
	})
	fmt.Printf("listening on :%s pid=%d\n", os.Args[1], os.Getpid())
	if err := http.ListenAndServe(":"+os.Args[1], nil); err != nil {
		fmt.Fprintln(os.Stderr, "go-server:", err)
		os.Exit(3)
	}
}
