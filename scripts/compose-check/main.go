// compose-check loads Compose files the way Docker Compose v2 does (compose-go: interpolation,
// the Compose specification's schema, references between services, networks and volumes) and
// prints the resolved project, like `docker compose config`, which needs the Docker plugin.
// Usage: compose-check FILE...  (exit 1 with the loader's message when a file is not valid)
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(files []string) error {
	opts, err := cli.NewProjectOptions(files, cli.WithOsEnv, cli.WithName("compose-check"))
	if err != nil {
		return err
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		return err
	}
	out, err := project.MarshalYAML()
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(out)
	return err
}
