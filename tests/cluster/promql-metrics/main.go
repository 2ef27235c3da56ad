// Command promql-metrics prints the metric names that PromQL expressions select, as Prometheus'
// own parser reads them. Each stdin line is one expression as a JSON string; each stdout line is
// {"expr": ..., "metrics": [...]} or {"expr": ..., "error": ...}. A selector without a metric
// name (only label matchers) is listed as "".
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

type result struct {
	Expr    string   `json:"expr"`
	Metrics []string `json:"metrics,omitempty"`
	Error   string   `json:"error,omitempty"`
}

func main() {
	p := parser.NewParser(parser.Options{})
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var r result
		if err := json.Unmarshal(in.Bytes(), &r.Expr); err != nil {
			fmt.Fprintln(os.Stderr, "each line must be a JSON string:", err)
			os.Exit(2)
		}
		if expr, err := p.ParseExpr(r.Expr); err != nil {
			r.Error = err.Error()
		} else {
			r.Metrics = selected(expr)
		}
		if err := out.Encode(r); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func selected(expr parser.Expr) []string {
	names := []string{}
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		if selector, ok := node.(*parser.VectorSelector); ok {
			name := selector.Name
			for _, m := range selector.LabelMatchers {
				if name == "" && m.Name == labels.MetricName && m.Type == labels.MatchEqual {
					name = m.Value
				}
			}
			names = append(names, name)
		}
		return nil
	})
	return names
}
