package main

import (
	"context"
	"os"
	"strconv"

	"github.com/cutover-dev/cutover/internal/dbgen"
	"github.com/jackc/pgx/v5"
)

func main() {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, os.Args[1])
	if err != nil {
		panic(err)
	}
	n, _ := strconv.Atoi(os.Args[2])
	if err := dbgen.TokenTable(ctx, conn, "tokens", n); err != nil {
		panic(err)
	}
}
