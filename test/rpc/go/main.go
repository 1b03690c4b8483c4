// Command scenario drives the generated Go client against a live Turbine and prints one JSON object with
// what happened. Usage: scenario <websocket url> <token>
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"rpcclient"
)

type publication struct {
	Channel string
	Data    json.RawMessage
}

func main() {
	out, err := run(os.Args[1], os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	encoded, _ := json.Marshal(out)
	fmt.Println(string(encoded))
}

func run(url, token string) (map[string]any, error) {
	out := map[string]any{}
	ctx := context.Background()
	rpc := rpcclient.NewCentrifugoRPCClient(url, token, "42")
	rpc.Timeout = 10 * time.Second
	publications := make(chan publication, 16)
	rpc.OnPublication = func(channel string, data json.RawMessage) {
		select {
		case publications <- publication{channel, data}:
		default:
		}
	}
	if err := rpc.Connect(ctx); err != nil {
		return nil, err
	}
	api := rpcclient.NewAPIClient(rpc)
	out["subscriptions"] = rpc.Subscriptions

	stats, err := api.TasksGetStats(ctx, rpcclient.TasksGetStatsParams{UserID: "42"})
	if err != nil {
		return nil, err
	}
	out["stats"] = []any{stats.UserID, stats.Total, stats.Completed, stats.Pending, stats.ByPriority.High}

	open := rpcclient.StatusOpen
	listed, err := api.TasksList(ctx, rpcclient.TasksListParams{Limit: 10, Filter: rpcclient.TasksListParamsFilter{Status: &open}})
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, task := range listed.Tasks {
		ids = append(ids, task.ID)
	}
	first := listed.Tasks[0]
	out["list"] = []any{ids, first.LastActivity.Comment != nil && first.LastActivity.Comment.Author == "Ada", first.Assignee == nil}

	_, err = api.TasksGet(ctx, rpcclient.TasksGetParams{ID: "nope"})
	var rpcErr *rpcclient.RPCError
	if errors.As(err, &rpcErr) {
		out["rpc_error"] = []any{rpcErr.Code, rpcErr.Message}
	}

	_, err = api.TasksList(ctx, rpcclient.TasksListParams{Limit: 1000})
	var validationErr *rpcclient.ValidationError
	if errors.As(err, &validationErr) {
		out["validation_error"] = validationErr.Message
	}

	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err = api.ReportsExport(short, rpcclient.ReportsExportParams{DelayMs: 1500, Format: rpcclient.ReportsExportParamsFormatCsv})
	cancel()
	out["timeout"] = errors.Is(err, rpcclient.ErrTimeout)

	report, err := api.ReportsExport(ctx, rpcclient.ReportsExportParams{DelayMs: 0, Format: rpcclient.ReportsExportParamsFormatPdf})
	if err != nil {
		return nil, err
	}
	out["after_timeout"] = []any{report.URL, report.Size.String != nil && *report.Size.String == "unknown"}
	csv, err := api.ReportsExport(ctx, rpcclient.ReportsExportParams{Format: rpcclient.ReportsExportParamsFormatCsv})
	if err != nil {
		return nil, err
	}
	out["int_variant"] = csv.Size.Int != nil && *csv.Size.Int == 1024

	select {
	case pub := <-publications:
		out["publication"] = []any{pub.Channel, pub.Data}
	case <-time.After(10 * time.Second):
		return nil, errors.New("no publication on the personal channel")
	}
	rpc.Disconnect()

	bad := rpcclient.NewCentrifugoRPCClient(url, "not-a-jwt", "42")
	var connErr *rpcclient.ConnectionError
	if errors.As(bad.Connect(ctx), &connErr) {
		out["connect_error"] = connErr.Code
	}
	return out, nil
}
