"""Drives the generated Python client against a live Turbine; prints one JSON object with what happened.

Usage: scenario.py <clients dir> <websocket url> <token>
"""
import asyncio
import json
import sys

sys.path.insert(0, sys.argv[1])

import rpc_client as rc  # noqa: E402


async def main(url: str, token: str) -> dict:
    out: dict = {}
    rpc = rc.CentrifugoRPCClient(url, token, "42", timeout=10.0)
    publications: asyncio.Queue = asyncio.Queue()
    rpc.on_publication(lambda channel, data: publications.put_nowait([channel, data]))
    await asyncio.gather(rpc.connect(), rpc.connect())
    first_client = rpc.client_id
    await rpc.connect()
    out["one_connection"] = rpc.client_id == first_client != ""
    api = rc.APIClient(rpc)
    out["subscriptions"] = rpc.subscriptions

    stats = await api.tasks_get_stats(rc.TaskStatsParams(user_id="42"))
    out["stats"] = [type(stats).__name__, stats.to_dict(), type(stats.by_priority).__name__]
    # A nested model given as a plain dict.
    listed = await api.tasks_list(rc.TasksListParams(limit=10, filter={"status": "open"}))
    out["list"] = [[task.id for task in listed.tasks], type(listed.tasks[0].last_activity).__name__]

    try:
        await api.tasks_get(rc.TasksGetParams(id="nope"))
    except rc.ValidationError:
        out["rpc_error"] = "wrong class"
    except rc.RPCError as err:
        out["rpc_error"] = [err.code, err.message]

    try:
        await api.tasks_list(rc.TasksListParams(limit=1000, filter=rc.TasksListParamsFilter()))
    except rc.RPCError as err:  # dataclasses: rc.ValidationError; pydantic: rc.SchemaError
        out["validation_error"] = [err.code, "limit" in err.message]

    try:
        rc.TaskStatsParams(user_id=5)  # type: ignore[arg-type]
    except rc.ValidationError as err:  # pydantic's, with pydantic models
        out["client_validation_error"] = [rc.MODELS, type(err).__module__.split(".")[0], str(err)]

    try:
        await api.reports_export(rc.ReportsExportParams(delay_ms=1500, format="csv"), timeout=0.2)
    except rc.TimeoutError:
        out["timeout"] = "TimeoutError"
    report = await api.reports_export(rc.ReportsExportParams(delay_ms=0, format="pdf"))
    out["after_timeout"] = report.to_dict()

    out["publication"] = await asyncio.wait_for(publications.get(), 10)
    await rpc.disconnect()
    try:
        await api.tasks_get_stats(rc.TaskStatsParams(user_id="42"))
    except ConnectionError as err:
        out["after_disconnect"] = type(err).__name__

    bad = rc.CentrifugoRPCClient(url, "not-a-jwt", "42", timeout=10.0)
    try:
        await bad.connect()
    except ConnectionError as err:  # the builtin: the client's ConnectionError subclasses it
        out["connect_error"] = [type(err).__name__, getattr(err, "code", None)]
    return out


print(json.dumps(asyncio.run(main(sys.argv[2], sys.argv[3]))))
