"""The seed's Python examples (CentrifugoRPCClient, APIClient, Error Handling) verbatim, inside a harness.

Usage: example.py <clients dir> <websocket url> <token>. Prints what the examples print; harness lines say
where each example starts.
"""
import asyncio
import sys

sys.path.insert(0, sys.argv[1])

from rpc_client import APIClient, CentrifugoRPCClient, TaskStatsParams  # noqa: E402


async def usage(rpc: CentrifugoRPCClient) -> None:
    # --- the seed's examples, verbatim ---
    await rpc.connect()
    result = await rpc.call("tasks.get_stats", {"user_id": "123"})
    print("call:", result)
    api = APIClient(rpc)
    result = await api.tasks_get_stats(TaskStatsParams(user_id="123"))
    print("typed:", result)
    await rpc.disconnect()


async def validation_errors() -> None:
    # --- the seed's error example, verbatim ---
    # Validation errors
    from pydantic import ValidationError
    try:
        params = TaskStatsParams(user_id=123) # Wrong type
    except ValidationError as e:
        print(e)


async def connection_errors(rpc: CentrifugoRPCClient) -> None:
    # --- the seed's error example, verbatim ---
    # Connection errors
    try:
        await rpc.connect()
    except ConnectionError as e:
        print(f"Failed to connect: {e}")


async def rpc_errors(api: APIClient, params: TaskStatsParams) -> None:
    # --- the seed's error example, verbatim ---
    # RPC errors
    try:
        result = await api.tasks_get_stats(params)
    except ValueError as e:
        print(f"RPC error: {e}")


async def main(url: str, token: str) -> None:
    await usage(CentrifugoRPCClient(url, token, "123"))
    await validation_errors()
    await connection_errors(CentrifugoRPCClient(url.replace("/connection/websocket", "/nope"), token, "123"))
    rpc = CentrifugoRPCClient(url, token, "123")
    await rpc.connect()
    await rpc_errors(APIClient(rpc), TaskStatsParams(user_id=""))  # the server refuses an empty user_id
    await rpc.disconnect()


asyncio.run(main(sys.argv[2], sys.argv[3]))
