// Command scenario drives the generated Go client against a live Turbine and prints one JSON object with
// what happened. Usage: scenario <websocket url> <token>
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
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
	rpc := rpcclient.NewAPIClient(url, token, "42")
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
	if err := rpc.Connect(ctx); err != nil {
		return nil, fmt.Errorf("a second Connect: %w", err)
	}
	api := rpc
	out["subscriptions"] = rpc.Subscriptions

	stats, err := api.TasksGetStats(ctx, rpcclient.TaskStatsParams{UserId: "42"})
	if err != nil {
		return nil, err
	}
	out["stats"] = []any{stats.UserId, stats.Total, stats.Completed, stats.Pending, stats.ByPriority.High}

	listed, err := api.TasksList(ctx, rpcclient.TasksListParams{Limit: 10, Filter: rpcclient.TasksListParamsFilter{Status: rpcclient.StatusOpen}})
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, task := range listed.Tasks {
		ids = append(ids, task.Id)
	}
	first := listed.Tasks[0]
	out["list"] = []any{ids, first.LastActivity.Comment != nil && first.LastActivity.Comment.Author == "Ada", first.Assignee == nil}

	_, err = api.TasksGet(ctx, rpcclient.TasksGetParams{Id: "nope"})
	var rpcErr *rpcclient.RPCError
	if errors.As(err, &rpcErr) {
		out["rpc_error"] = []any{rpcErr.Code, rpcErr.Message}
	}

	_, err = api.TasksList(ctx, rpcclient.TasksListParams{Limit: 1000})
	if validationErr, ok := err.(*rpcclient.RPCError); ok && validationErr.IsValidation() {
		out["validation_error"] = validationErr.Message
	}

	raw, err := api.Call(ctx, "tasks.get_stats", map[string]any{"user_id": "42", "include_completed": false})
	if err != nil {
		return nil, err
	}
	var untyped map[string]any
	if err := json.Unmarshal(raw, &untyped); err != nil {
		return nil, err
	}
	out["untyped_call"] = untyped["total"]

	encoded, err := json.Marshal(rpcclient.Task{Id: "t9"})
	if err != nil {
		return nil, err
	}
	out["nil_slice"] = strings.Contains(string(encoded), `"tags":[]`)

	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err = api.ReportsExport(short, rpcclient.ReportsExportParams{DelayMs: 1500, Format: rpcclient.ReportsExportParamsFormatCsv})
	cancel()
	out["timeout"] = errors.Is(err, rpcclient.ErrTimeout)

	report, err := api.ReportsExport(ctx, rpcclient.ReportsExportParams{DelayMs: 0, Format: rpcclient.ReportsExportParamsFormatPdf})
	if err != nil {
		return nil, err
	}
	out["after_timeout"] = []any{report.Url, report.Size.String != nil && *report.Size.String == "unknown"}
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
	var afterErr *rpcclient.ConnectionError
	_, err = api.TasksGetStats(ctx, rpcclient.TaskStatsParams{UserId: "42"})
	out["after_disconnect"] = errors.As(err, &afterErr)

	bad := rpcclient.NewAPIClient(url, "not-a-jwt", "42")
	var connErr *rpcclient.ConnectionError
	if errors.As(bad.Connect(ctx), &connErr) {
		out["connect_error"] = connErr.Code
	}
	return out, nil
}
