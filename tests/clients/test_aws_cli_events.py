"""The aws CLI's EventBridge commands against `expressway serve`: put-rule, put-targets,
put-events, test-event-pattern, list-rules, list-targets-by-rule, remove-targets and
delete-rule, with the executions the rule starts checked through `aws stepfunctions`.

Run by `cargo test --test server_clients`, which starts the server and sets EXPRESSWAY_ENDPOINT,
dummy credentials and the region (the venv's `aws` is first on PATH).
"""

import json
import os
import subprocess
import sys
import time
import uuid

ENDPOINT = os.environ["EXPRESSWAY_ENDPOINT"]
ROLE = "arn:aws:iam::123456789012:role/test"
GREET = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"hello.$": "$.who"}, "End": True}}})


def aws(*args, ok=True):
    """Runs one aws command; answers its parsed JSON output (or stderr when it must fail)."""
    cmd = ["aws", "--endpoint-url", ENDPOINT, "--output", "json", *args]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if ok:
        if r.returncode != 0:
            sys.exit(f"FAILED: {' '.join(cmd)}\n{r.stderr}")
        return json.loads(r.stdout) if r.stdout.strip() else {}
    if r.returncode == 0:
        sys.exit(f"expected a failure: {' '.join(cmd)}\n{r.stdout}")
    return r.stderr


def check(condition, what):
    if not condition:
        sys.exit(f"FAILED: {what}")
    print(f"ok: {what}")


def main():
    name = f"greet-{uuid.uuid4().hex[:8]}"
    machine = aws("stepfunctions", "create-state-machine", "--name", name, "--definition", GREET,
                  "--role-arn", ROLE, "--type", "EXPRESS")["stateMachineArn"]
    rule = f"cli-{uuid.uuid4().hex[:8]}"
    pattern = json.dumps({"source": ["cli.app"], "detail": {"who": [{"prefix": "w"}]}})

    put = aws("events", "put-rule", "--name", rule, "--event-pattern", pattern, "--description", "from the CLI")
    check(put["RuleArn"] == f"arn:aws:events:us-east-1:123456789012:rule/{rule}", "put-rule answers the rule ARN")

    targets = json.dumps([{"Id": "greet", "Arn": machine, "InputPath": "$.detail"}])
    check(aws("events", "put-targets", "--rule", rule, "--targets", targets)["FailedEntryCount"] == 0, "put-targets")

    entries = json.dumps([
        {"Source": "cli.app", "DetailType": "hello", "Detail": json.dumps({"who": "world"})},
        {"Source": "cli.app", "DetailType": "hello", "Detail": json.dumps({"who": "nobody"})},
    ])
    r = aws("events", "put-events", "--entries", entries)
    check(r["FailedEntryCount"] == 0 and all("EventId" in e for e in r["Entries"]), "put-events accepts both entries")

    for _ in range(2000):
        executions = aws("stepfunctions", "list-executions", "--state-machine-arn", machine)["executions"]
        if executions and all(e["status"] != "RUNNING" for e in executions):
            break
        time.sleep(0.01)
    check(len(executions) == 1, "one matching event started one execution")
    d = aws("stepfunctions", "describe-execution", "--execution-arn", executions[0]["executionArn"])
    check((d["status"], json.loads(d["input"]), json.loads(d["output"])) == ("SUCCEEDED", {"who": "world"}, {"hello": "world"}),
          "the execution got the event's detail (InputPath) as input")

    event = json.dumps({"id": "1", "account": "123456789012", "source": "cli.app", "time": "2024-01-01T00:00:00Z",
                        "region": "us-east-1", "resources": [], "detail-type": "hello", "detail": {"who": "wanda"}})
    check(aws("events", "test-event-pattern", "--event-pattern", pattern, "--event", event)["Result"] is True,
          "test-event-pattern matches")
    err = aws("events", "test-event-pattern", "--event-pattern", '{"source": "x"}', "--event", event, ok=False)
    check("InvalidEventPatternException" in err, "test-event-pattern refuses an invalid pattern")

    listed = aws("events", "list-rules", "--name-prefix", rule)["Rules"]
    check([(r["Name"], r["State"], r["Description"]) for r in listed] == [(rule, "ENABLED", "from the CLI")], "list-rules")
    listed = aws("events", "list-targets-by-rule", "--rule", rule)["Targets"]
    check([(t["Id"], t["Arn"], t["InputPath"]) for t in listed] == [("greet", machine, "$.detail")], "list-targets-by-rule")

    err = aws("events", "delete-rule", "--name", rule, ok=False)
    check("ValidationException" in err and "has targets" in err, "delete-rule refuses a rule with targets")
    aws("events", "remove-targets", "--rule", rule, "--ids", "greet")
    check(aws("events", "list-targets-by-rule", "--rule", rule)["Targets"] == [], "remove-targets")
    aws("events", "delete-rule", "--name", rule)
    err = aws("events", "describe-rule", "--name", rule, ok=False)
    check("ResourceNotFoundException" in err, "delete-rule deleted it")


if __name__ == "__main__":
    main()
