"""boto3 against `expressway serve`: every operation the server offers, and the errors AWS
names, through the real SDK (request signing, JSON 1.0 protocol, modeled exceptions,
paginators, timestamp parsing); EventBridge (JSON 1.1) too, with rules starting executions.

Run by `cargo test --test server_clients`, which starts the server and sets EXPRESSWAY_ENDPOINT,
dummy credentials, the region and AWS_DISABLE_HOST_PREFIX_INJECTION=true.
"""

import datetime
import json
import os
import time
import unittest
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["EXPRESSWAY_ENDPOINT"]
ROLE = "arn:aws:iam::123456789012:role/test"
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": True}, "ResultPath": "$.r", "End": True}}})
FAIL = json.dumps({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "it broke"}}})
WAIT = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 120, "End": True}}})
TASK = json.dumps({
    "StartAt": "hello-world",
    "States": {
        "hello-world": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:hello-world", "Next": "reverse"},
        "reverse": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:reverse",
                    "InputPath": "$.body", "ResultPath": "$.body", "End": True},
    },
})


def client(service="stepfunctions"):
    # Retries off: a ThrottlingException must reach the test, not be retried away.
    return boto3.client(service, endpoint_url=ENDPOINT, config=Config(retries={"max_attempts": 1, "mode": "standard"}))


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class StepFunctions(unittest.TestCase):
    def setUp(self):
        self.sfn = client()

    def create(self, definition=PASS, kind="EXPRESS", **extra):
        name = unique("sm")
        r = self.sfn.create_state_machine(name=name, definition=definition, roleArn=ROLE, type=kind, **extra)
        return r["stateMachineArn"]

    def wait_done(self, execution_arn):
        for _ in range(2000):
            d = self.sfn.describe_execution(executionArn=execution_arn)
            if d["status"] != "RUNNING":
                return d
            time.sleep(0.005)
        self.fail(f"{execution_arn} did not finish")

    def assertRaisesAws(self, name):
        return self.assertRaises(getattr(self.sfn.exceptions, name))

    def test_create_describe_update_delete(self):
        name = unique("life")
        r = self.sfn.create_state_machine(name=name, definition=PASS, roleArn=ROLE, type="EXPRESS",
                                          tags=[{"key": "team", "value": "a"}])
        arn = r["stateMachineArn"]
        self.assertEqual(arn, f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}")
        self.assertIsInstance(r["creationDate"], datetime.datetime)
        d = self.sfn.describe_state_machine(stateMachineArn=arn)
        self.assertEqual((d["name"], d["type"], d["status"], d["definition"], d["roleArn"]), (name, "EXPRESS", "ACTIVE", PASS, ROLE))
        self.assertEqual(d["loggingConfiguration"], {"level": "OFF", "includeExecutionData": False})
        u = self.sfn.update_state_machine(stateMachineArn=arn, definition=FAIL)
        self.assertIsInstance(u["updateDate"], datetime.datetime)
        self.assertNotEqual(u["revisionId"], d["revisionId"])
        self.assertEqual(self.sfn.describe_state_machine(stateMachineArn=arn)["definition"], FAIL)
        self.sfn.delete_state_machine(stateMachineArn=arn)
        with self.assertRaisesAws("StateMachineDoesNotExist"):
            self.sfn.describe_state_machine(stateMachineArn=arn)

    def test_create_errors(self):
        with self.assertRaisesAws("InvalidDefinition") as e:
            self.sfn.create_state_machine(name=unique("bad"), definition='{"StartAt": "A", "States": {}}', roleArn=ROLE)
        self.assertIn("Invalid State Machine Definition", str(e.exception))
        arn = self.create()
        name = arn.rsplit(":", 1)[1]
        with self.assertRaisesAws("StateMachineAlreadyExists"):
            self.sfn.create_state_machine(name=name, definition=FAIL, roleArn=ROLE, type="EXPRESS")
        # The same request again is idempotent.
        again = self.sfn.create_state_machine(name=name, definition=PASS, roleArn=ROLE, type="EXPRESS")
        self.assertEqual(again["stateMachineArn"], arn)
        with self.assertRaisesAws("InvalidName"):
            self.sfn.create_state_machine(name="has space", definition=PASS, roleArn=ROLE)
        with self.assertRaisesAws("InvalidLoggingConfiguration"):
            self.sfn.create_state_machine(name=unique("log"), definition=PASS, roleArn=ROLE, loggingConfiguration={"level": "ALL"})

    def test_list_state_machines_paginates(self):
        for _ in range(3):
            self.create()
        first = self.sfn.list_state_machines(maxResults=2)
        self.assertEqual(len(first["stateMachines"]), 2)
        self.assertIn("nextToken", first)
        arns = [m["stateMachineArn"] for m in self.sfn.get_paginator("list_state_machines").paginate(PaginationConfig={"PageSize": 1}).build_full_result()["stateMachines"]]
        self.assertGreaterEqual(len(arns), 3)
        self.assertEqual(len(arns), len(set(arns)))
        with self.assertRaisesAws("InvalidToken"):
            self.sfn.list_state_machines(nextToken="bogus-token")

    def test_start_sync_execution(self):
        arn = self.create()
        r = self.sfn.start_sync_execution(stateMachineArn=arn, input='{"a": 1}', name="sync-one")
        self.assertEqual(r["status"], "SUCCEEDED")
        self.assertEqual(json.loads(r["output"]), {"a": 1, "r": {"ok": True}})
        self.assertEqual(r["input"], '{"a": 1}')
        self.assertTrue(r["executionArn"].startswith(arn.replace(":stateMachine:", ":express:") + ":sync-one:"))
        self.assertGreaterEqual(r["billingDetails"]["billedDurationInMilliseconds"], 100)
        self.assertEqual(r["billingDetails"]["billedMemoryUsedInMB"], 64)
        self.assertIsInstance(r["stopDate"], datetime.datetime)
        failed = self.sfn.start_sync_execution(stateMachineArn=self.create(FAIL))
        self.assertEqual((failed["status"], failed["error"], failed["cause"]), ("FAILED", "Boom", "it broke"))
        with self.assertRaisesAws("StateMachineTypeNotSupported"):
            self.sfn.start_sync_execution(stateMachineArn=self.create(kind="STANDARD"))

    def test_start_errors(self):
        arn = self.create()
        with self.assertRaisesAws("InvalidExecutionInput"):
            self.sfn.start_execution(stateMachineArn=arn, input="{not json")
        with self.assertRaisesAws("StateMachineDoesNotExist"):
            self.sfn.start_execution(stateMachineArn=arn + "-missing")
        with self.assertRaisesAws("InvalidArn"):
            self.sfn.start_execution(stateMachineArn="arn:aws:lambda:us-east-1:123456789012:function:f")
        with self.assertRaisesAws("InvalidName"):
            self.sfn.start_execution(stateMachineArn=arn, name="a/b")
        standard = self.create(kind="STANDARD")
        first = self.sfn.start_execution(stateMachineArn=standard, name="once")
        self.wait_done(first["executionArn"])
        with self.assertRaisesAws("ExecutionAlreadyExists"):
            self.sfn.start_execution(stateMachineArn=standard, name="once")

    def test_executions_describe_list_history(self):
        arn = self.create()
        started = [self.sfn.start_execution(stateMachineArn=arn, input='{"payload": "hi mom"}') for _ in range(3)]
        for s in started:
            self.assertIsInstance(s["startDate"], datetime.datetime)
            d = self.wait_done(s["executionArn"])
            self.assertEqual(d["status"], "SUCCEEDED")
            self.assertEqual(d["input"], '{"payload": "hi mom"}')
            self.assertEqual(d["redriveStatus"], "NOT_REDRIVABLE")
        listed = self.sfn.get_paginator("list_executions").paginate(stateMachineArn=arn, PaginationConfig={"PageSize": 2}).build_full_result()
        self.assertEqual({e["executionArn"] for e in listed["executions"]}, {s["executionArn"] for s in started})
        self.assertEqual(self.sfn.list_executions(stateMachineArn=arn, statusFilter="FAILED")["executions"], [])
        with self.assertRaisesAws("InvalidToken"):
            self.sfn.list_executions(stateMachineArn=arn, nextToken="bogus")
        history = self.sfn.get_execution_history(executionArn=started[0]["executionArn"])["events"]
        self.assertEqual([e["type"] for e in history], ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"])
        self.assertEqual([e["id"] for e in history], [1, 2, 3, 4])
        self.assertEqual(history[1]["stateEnteredEventDetails"]["name"], "P")
        self.assertIsInstance(history[0]["timestamp"], datetime.datetime)
        reverse = self.sfn.get_execution_history(executionArn=started[0]["executionArn"], reverseOrder=True, maxResults=1, includeExecutionData=False)
        self.assertEqual(reverse["events"][0]["type"], "ExecutionSucceeded")
        self.assertNotIn("output", reverse["events"][0]["executionSucceededEventDetails"])
        pages = list(self.sfn.get_paginator("get_execution_history").paginate(executionArn=started[0]["executionArn"], PaginationConfig={"PageSize": 1}))
        self.assertEqual(len(pages), 4)
        sm = self.sfn.describe_state_machine_for_execution(executionArn=started[0]["executionArn"])
        self.assertEqual((sm["stateMachineArn"], sm["definition"]), (arn, PASS))
        missing = arn.replace(":stateMachine:", ":execution:") + ":nope"
        with self.assertRaisesAws("ExecutionDoesNotExist"):
            self.sfn.describe_execution(executionArn=missing)
        with self.assertRaisesAws("InvalidArn"):
            self.sfn.describe_execution(executionArn="not-an-arn")

    def test_stop_execution(self):
        arn = self.create(WAIT, kind="STANDARD")
        s = self.sfn.start_execution(stateMachineArn=arn)
        self.assertEqual(self.sfn.describe_execution(executionArn=s["executionArn"])["status"], "RUNNING")
        stop = self.sfn.stop_execution(executionArn=s["executionArn"], error="Manual", cause="from boto3")
        self.assertIsInstance(stop["stopDate"], datetime.datetime)
        d = self.sfn.describe_execution(executionArn=s["executionArn"])
        self.assertEqual((d["status"], d["error"], d["cause"]), ("ABORTED", "Manual", "from boto3"))
        last = self.sfn.get_execution_history(executionArn=s["executionArn"], reverseOrder=True)["events"][0]
        self.assertEqual(last["type"], "ExecutionAborted")

    def test_validate_state_machine_definition(self):
        ok = self.sfn.validate_state_machine_definition(definition=PASS, type="EXPRESS")
        self.assertEqual((ok["result"], ok["diagnostics"]), ("OK", []))
        bad = self.sfn.validate_state_machine_definition(definition='{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}')
        self.assertEqual(bad["result"], "FAIL")
        self.assertEqual(bad["diagnostics"][0]["code"], "MISSING_TRANSITION_TARGET")

    def test_test_state(self):
        ok = self.sfn.test_state(definition='{"Type": "Pass", "Parameters": {"b.$": "$.a"}, "End": true}',
                                 roleArn="arn:aws:iam::123456789012:role/r", input='{"a": 2}', inspectionLevel="DEBUG")
        self.assertEqual((ok["status"], ok["output"]), ("SUCCEEDED", '{"b":2}'))
        self.assertEqual(ok["inspectionData"]["afterParameters"], '{"b":2}')
        with self.assertRaises(self.sfn.exceptions.InvalidDefinition):
            self.sfn.test_state(definition='{"Type": "Nope"}', roleArn="arn:aws:iam::123456789012:role/r")

    def test_tags(self):
        arn = self.create()
        self.sfn.tag_resource(resourceArn=arn, tags=[{"key": "a", "value": "1"}, {"key": "b", "value": "2"}])
        self.sfn.untag_resource(resourceArn=arn, tagKeys=["a"])
        self.assertEqual(self.sfn.list_tags_for_resource(resourceArn=arn)["tags"], [{"key": "b", "value": "2"}])
        with self.assertRaisesAws("ResourceNotFound"):
            self.sfn.list_tags_for_resource(resourceArn=arn + "-missing")

    def test_versions_and_aliases(self):
        r = self.sfn.create_state_machine(name=unique("ver"), definition=PASS, roleArn=ROLE, type="EXPRESS", publish=True)
        arn, v1 = r["stateMachineArn"], r["stateMachineVersionArn"]
        self.assertEqual(v1, arn + ":1")
        self.sfn.update_state_machine(stateMachineArn=arn, definition=FAIL)
        v2 = self.sfn.publish_state_machine_version(stateMachineArn=arn, description="second")["stateMachineVersionArn"]
        self.assertEqual(v2, arn + ":2")
        versions = self.sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
        self.assertEqual([v["stateMachineVersionArn"] for v in versions], [v2, v1])
        self.assertEqual(self.sfn.start_sync_execution(stateMachineArn=v1)["status"], "SUCCEEDED")
        alias = self.sfn.create_state_machine_alias(name="live", routingConfiguration=[{"stateMachineVersionArn": v2, "weight": 100}])["stateMachineAliasArn"]
        self.assertEqual(alias, arn + ":live")
        run = self.sfn.start_sync_execution(stateMachineArn=alias)
        self.assertEqual(run["status"], "FAILED")
        d = self.sfn.describe_execution(executionArn=run["executionArn"])
        self.assertEqual((d["stateMachineAliasArn"], d["stateMachineVersionArn"]), (alias, v2))
        self.sfn.update_state_machine_alias(stateMachineAliasArn=alias, description="now v1",
                                            routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}])
        described = self.sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
        self.assertEqual((described["description"], described["routingConfiguration"][0]["stateMachineVersionArn"]), ("now v1", v1))
        self.assertEqual([a["stateMachineAliasArn"] for a in self.sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"]], [alias])
        with self.assertRaisesAws("ConflictException"):
            self.sfn.delete_state_machine_version(stateMachineVersionArn=v1)
        with self.assertRaisesAws("ValidationException"):
            self.sfn.create_state_machine_alias(name="half", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 50}])
        self.sfn.delete_state_machine_alias(stateMachineAliasArn=alias)
        with self.assertRaisesAws("ResourceNotFound"):
            self.sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
        self.sfn.delete_state_machine_version(stateMachineVersionArn=v1)
        with self.assertRaisesAws("StateMachineDoesNotExist"):
            self.sfn.start_execution(stateMachineArn=v1)

    def test_test_case_suffix_and_default_test_case(self):
        arn = self.create(TASK)
        hi_mom = self.sfn.start_sync_execution(stateMachineArn=arn + "#HiMom", input='{"payload": "hi mom"}')
        self.assertEqual(json.loads(hi_mom["output"])["body"], {"payload": "MOM IH"})
        throttled = self.sfn.start_sync_execution(stateMachineArn=arn + "#ReverseThrottled")
        self.assertEqual(throttled["error"], "Lambda.TooManyRequestsException")
        # The server runs with --test-case HiMom: plain ARNs use it.
        self.assertEqual(self.sfn.start_sync_execution(stateMachineArn=arn)["status"], "SUCCEEDED")
        with self.assertRaisesAws("InvalidName"):
            self.sfn.start_sync_execution(stateMachineArn=arn + "#NoSuchCase")


GREET = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"hello.$": "$.who"}, "End": True}}})
ENVELOPE = {"id": "1", "account": "123456789012", "source": "shop", "time": "2024-01-01T00:00:00Z",
            "region": "us-east-1", "resources": [], "detail-type": "order", "detail": {"total": 150}}


class EventBridge(unittest.TestCase):
    def setUp(self):
        self.events = client("events")
        self.sfn = client()

    def assertAwsError(self, code):
        test = self

        class Check:
            def __enter__(self):
                return self

            def __exit__(self, kind, e, tb):
                test.assertIsNotNone(e, f"expected {code}")
                test.assertIsInstance(e, ClientError)
                test.assertEqual(e.response["Error"]["Code"], code, str(e))
                self.message = e.response["Error"]["Message"]
                return True

        return Check()

    def machine(self):
        name = unique("greet")
        return self.sfn.create_state_machine(name=name, definition=GREET, roleArn=ROLE, type="EXPRESS")["stateMachineArn"]

    def finished(self, arn, count):
        for _ in range(2000):
            executions = self.sfn.list_executions(stateMachineArn=arn)["executions"]
            if len(executions) >= count and all(e["status"] != "RUNNING" for e in executions):
                return executions
            time.sleep(0.005)
        self.fail(f"{count} executions of {arn} did not finish")

    def test_rules_start_executions_with_transformed_input(self):
        arn = self.machine()
        bus = unique("orders")
        bus_arn = self.events.create_event_bus(Name=bus)["EventBusArn"]
        self.assertEqual(bus_arn, f"arn:aws:events:us-east-1:123456789012:event-bus/{bus}")
        rule_arn = self.events.put_rule(Name="big", EventBusName=bus, Description="big orders",
                                        EventPattern=json.dumps({"detail": {"total": [{"numeric": [">", 100]}]}}))["RuleArn"]
        self.assertEqual(rule_arn, f"arn:aws:events:us-east-1:123456789012:rule/{bus}/big")
        put = self.events.put_targets(Rule="big", EventBusName=bus, Targets=[
            {"Id": "run", "Arn": arn, "InputTransformer": {"InputPathsMap": {"t": "$.detail.total", "src": "$.source"},
                                                           "InputTemplate": '{"who": "<src> paid <t>"}'}}])
        self.assertEqual(put["FailedEntryCount"], 0)
        r = self.events.put_events(Entries=[
            {"Source": "shop", "DetailType": "order", "Detail": json.dumps({"total": 150}), "EventBusName": bus,
             "Time": datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc), "Resources": ["r1"]},
            {"Source": "shop", "DetailType": "order", "Detail": json.dumps({"total": 5}), "EventBusName": bus},
            {"Source": "shop", "DetailType": "order", "Detail": "not json", "EventBusName": bus},
            {"Source": "shop", "DetailType": "order", "Detail": "{}", "EventBusName": "no-such-bus"},
        ])
        self.assertEqual(r["FailedEntryCount"], 2)
        self.assertIn("EventId", r["Entries"][0])
        self.assertIn("EventId", r["Entries"][1])
        self.assertEqual(r["Entries"][2]["ErrorCode"], "MalformedDetail")
        self.assertEqual(r["Entries"][3]["ErrorCode"], "NotFoundException")
        [execution] = self.finished(arn, 1)
        d = self.sfn.describe_execution(executionArn=execution["executionArn"])
        self.assertEqual((d["status"], json.loads(d["input"]), json.loads(d["output"])),
                         ("SUCCEEDED", {"who": "shop paid 150"}, {"hello": "shop paid 150"}))
        self.assertTrue(d["executionArn"].startswith(arn.replace(":stateMachine:", ":express:")))
        rule = self.events.describe_rule(Name="big", EventBusName=bus)
        self.assertEqual((rule["State"], rule["Description"], rule["EventBusName"]), ("ENABLED", "big orders", bus))
        self.events.remove_targets(Rule="big", EventBusName=bus, Ids=["run"])
        self.events.delete_rule(Name="big", EventBusName=bus)
        self.events.delete_event_bus(Name=bus)
        with self.assertAwsError("ResourceNotFoundException"):
            self.events.describe_rule(Name="big", EventBusName=bus)

    def test_rule_lifecycle_and_pagination(self):
        prefix = unique("life")
        for i in range(3):
            self.events.put_rule(Name=f"{prefix}-{i}", EventPattern='{"source": ["x"]}', State="DISABLED" if i == 2 else "ENABLED")
        first = self.events.list_rules(NamePrefix=prefix, Limit=2)
        self.assertEqual([r["Name"] for r in first["Rules"]], [f"{prefix}-0", f"{prefix}-1"])
        self.assertIn("NextToken", first)
        rest = self.events.list_rules(NamePrefix=prefix, Limit=2, NextToken=first["NextToken"])
        self.assertEqual([(r["Name"], r["State"]) for r in rest["Rules"]], [(f"{prefix}-2", "DISABLED")])
        self.assertNotIn("NextToken", rest)
        names = [r["Name"] for r in self.events.get_paginator("list_rules").paginate(NamePrefix=prefix, PaginationConfig={"PageSize": 1}).build_full_result()["Rules"]]
        self.assertEqual(names, [f"{prefix}-{i}" for i in range(3)])
        with self.assertAwsError("ValidationException"):
            self.events.list_rules(NextToken="bogus")
        self.events.enable_rule(Name=f"{prefix}-2")
        self.events.disable_rule(Name=f"{prefix}-0")
        states = {r["Name"]: r["State"] for r in self.events.list_rules(NamePrefix=prefix)["Rules"]}
        self.assertEqual(states, {f"{prefix}-0": "DISABLED", f"{prefix}-1": "ENABLED", f"{prefix}-2": "ENABLED"})
        targets = [{"Id": f"t{i}", "Arn": "arn:aws:states:us-east-1:123456789012:stateMachine:x"} for i in range(5)]
        self.assertEqual(self.events.put_targets(Rule=f"{prefix}-1", Targets=targets)["FailedEntryCount"], 0)
        over = self.events.put_targets(Rule=f"{prefix}-1", Targets=[{"Id": "t5", "Arn": "arn:x"}])
        self.assertEqual(over["FailedEntries"][0]["ErrorCode"], "LimitExceededException")
        listed = self.events.get_paginator("list_targets_by_rule").paginate(Rule=f"{prefix}-1", PaginationConfig={"PageSize": 2}).build_full_result()
        self.assertEqual([t["Id"] for t in listed["Targets"]], [f"t{i}" for i in range(5)])
        with self.assertAwsError("ValidationException") as e:
            self.events.delete_rule(Name=f"{prefix}-1")
        self.assertEqual(e.message, "Rule can't be deleted since it has targets.")
        self.events.remove_targets(Rule=f"{prefix}-1", Ids=[f"t{i}" for i in range(5)])
        for i in range(3):
            self.events.delete_rule(Name=f"{prefix}-{i}")
        self.assertEqual(self.events.list_rules(NamePrefix=prefix)["Rules"], [])

    def test_buses_and_errors(self):
        names = [unique("bus") for _ in range(2)]
        for n in names:
            self.events.create_event_bus(Name=n)
        with self.assertAwsError("ResourceAlreadyExistsException"):
            self.events.create_event_bus(Name=names[0])
        page = self.events.list_event_buses(Limit=1)
        self.assertEqual(len(page["EventBuses"]), 1)
        self.assertIn("NextToken", page)
        listed = {b["Name"] for b in self.events.list_event_buses(NamePrefix="bus-")["EventBuses"]}
        self.assertTrue(set(names) <= listed)
        with self.assertAwsError("ValidationException"):
            self.events.delete_event_bus(Name="default")
        with self.assertAwsError("InvalidEventPatternException") as e:
            self.events.put_rule(Name="bad", EventPattern='{"source": "x"}')
        self.assertIn("Event pattern is not valid", e.message)
        sched = unique("sched")
        self.events.put_rule(Name=sched, ScheduleExpression="cron(0 12 ? * MON-FRI *)")
        self.assertEqual(self.events.describe_rule(Name=sched)["ScheduleExpression"], "cron(0 12 ? * MON-FRI *)")
        self.events.delete_rule(Name=sched)
        with self.assertAwsError("ValidationException") as e:
            self.events.put_rule(Name=sched, ScheduleExpression="rate(5 minute)")
        self.assertEqual(e.message, "Parameter ScheduleExpression is not valid.")
        with self.assertAwsError("ResourceNotFoundException"):
            self.events.put_targets(Rule="no-such-rule", Targets=[{"Id": "t", "Arn": "arn:x"}])
        with self.assertAwsError("ResourceNotFoundException"):
            self.events.list_targets_by_rule(Rule="no-such-rule")
        for n in names:
            self.events.delete_event_bus(Name=n)

    def test_test_event_pattern(self):
        pattern = json.dumps({"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}})
        self.assertTrue(self.events.test_event_pattern(EventPattern=pattern, Event=json.dumps(ENVELOPE))["Result"])
        small = dict(ENVELOPE, detail={"total": 1})
        self.assertFalse(self.events.test_event_pattern(EventPattern=pattern, Event=json.dumps(small))["Result"])
        with self.assertAwsError("InvalidEventPatternException"):
            self.events.test_event_pattern(EventPattern='{"source": [{"numeric": ">"}]}', Event=json.dumps(ENVELOPE))
        with self.assertAwsError("ValidationException") as e:
            self.events.test_event_pattern(EventPattern=pattern, Event='{"source": "shop"}')
        self.assertIn("missing mandatory field", e.message)


if __name__ == "__main__":
    unittest.main(verbosity=2)
