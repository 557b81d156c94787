// Command opscheck is a helper for the operations test suite (scripts/test-ops.sh).
//
// It wraps two upstream libraries so the Python tests can use them:
//
//	opscheck promql            reads a JSON array of PromQL expressions on stdin and writes a
//	                           JSON array of {"expr", "error", "metrics"} on stdout, parsed with
//	                           Prometheus' own parser (github.com/prometheus/prometheus/promql/parser).
//	opscheck compose FILE      loads FILE with compose-go (the reference implementation of the
//	                           Compose Specification: JSON-schema validation, interpolation,
//	                           consistency checks), with every profile enabled, and writes the
//	                           normalized project as JSON on stdout. Exit status 1 on any error.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/prometheus/prometheus/promql/parser"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "promql":
		err = promql(os.Stdin, os.Stdout)
	case "compose":
		if len(os.Args) != 3 {
			usage()
		}
		err = compose(os.Args[2], os.Stdout)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "opscheck:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: opscheck promql < exprs.json | opscheck compose FILE")
	os.Exit(2)
}

type parsed struct {
	Expr    string   `json:"expr"`
	Error   string   `json:"error,omitempty"`
	Metrics []string `json:"metrics"`
}

func promql(in io.Reader, out io.Writer) error {
	var exprs []string
	if err := json.NewDecoder(in).Decode(&exprs); err != nil {
		return fmt.Errorf("stdin is not a JSON array of strings: %w", err)
	}
	p := parser.NewParser(parser.Options{})
	results := make([]parsed, 0, len(exprs))
	for _, e := range exprs {
		r := parsed{Expr: e, Metrics: []string{}}
		expr, err := p.ParseExpr(e)
		if err != nil {
			r.Error = err.Error()
		} else {
			seen := map[string]bool{}
			parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
				vs, ok := node.(*parser.VectorSelector)
				if !ok {
					return nil
				}
				name := vs.Name
				if name == "" {
					for _, m := range vs.LabelMatchers {
						if m.Name == "__name__" {
							name = m.Value
						}
					}
				}
				if name != "" && !seen[name] {
					seen[name] = true
					r.Metrics = append(r.Metrics, name)
				}
				return nil
			})
			sort.Strings(r.Metrics)
		}
		results = append(results, r)
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(results)
}

func compose(file string, out io.Writer) error {
	opts, err := cli.NewProjectOptions(
		[]string{file},
		cli.WithOsEnv,
		cli.WithDotEnv,
		cli.WithProfiles([]string{"*"}),
		cli.WithName("spanforge"),
	)
	if err != nil {
		return err
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		return err
	}
	b, err := project.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = out.Write(append(b, '\n'))
	return err
}
