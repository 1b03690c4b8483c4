// Command example runs the seed's Go examples (Client Struct, Generated Methods, Go Errors) verbatim, inside a
// harness, against the generated client imported with a dot so that its names read as in the seed.
// Usage: example <usage|connection-error|rpc-error> <websocket url> <token>
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	. "rpcclient"
)

func main() {
	ctx := context.Background()
	url, token, userID := os.Args[2], os.Args[3], "123"
	switch os.Args[1] {
	case "usage":
		usage(ctx, url, token, userID)
	case "connection-error":
		connectionError(ctx, url, token, userID)
	case "rpc-error":
		rpcError(ctx, url, token, userID)
	}
}

func usage(ctx context.Context, url, token, userID string) {
	params := TaskStatsParams{UserId: userID}
	// --- the seed's examples, verbatim ---
	client := NewAPIClient(url, token, userID)
	err := client.Connect(ctx)
	if err != nil {
		log.Fatalf("connect: %v", err)
	}
	defer client.Disconnect()
	{
		result, err := client.Call(ctx, "tasks.get_stats", params)
		fmt.Printf("call: %s %v\n", result, err)
	}
	api := client
	result, err := api.TasksGetStats(ctx, TaskStatsParams{
		UserId:           "123",
		IncludeCompleted: true,
	})
	fmt.Printf("typed: %+v %v\n", *result, err)
}

func connectionError(ctx context.Context, url, token, userID string) {
	client := NewAPIClient(url, token, userID)
	// --- the seed's error example, verbatim ---
	// Connection errors
	if err := client.Connect(ctx); err != nil {
		log.Fatalf("Connection failed: %v", err)
	}
}

func rpcError(ctx context.Context, url, token, userID string) {
	api := NewAPIClient(url, token, userID)
	if err := api.Connect(ctx); err != nil {
		log.Fatalf("connect: %v", err)
	}
	defer api.Disconnect()
	params := TaskStatsParams{UserId: ""} // the server refuses an empty user_id
	// --- the seed's error example, verbatim ---
	// RPC errors
	result, err := api.TasksGetStats(ctx, params)
	if err != nil {
		if rpcErr, ok := err.(*RPCError); ok {
			log.Printf("RPC error %d: %s", rpcErr.Code, rpcErr.Message)
		} else {
			log.Printf("Error: %v", err)
		}
	}
	_ = result
}
