package main

import (
	"fmt"

	"istio.io/istio/pkg/version"
)

func init() {
	commands["version"] = command{
		summary: "print the Istio version this stand-in was built from",
		run: func([]string) error {
			fmt.Println(version.Info.Version)
			return nil
		},
	}
}
