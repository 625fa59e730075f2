"""Every `aws stepfunctions` command of the product's documents (../shared/seeds), run with the
real aws CLI against `expressway serve`, with its output compared to the output the document
recorded from AWS.

The commands are read from the documents, not copied here: shell-prompt blocks (with `\\`
continuations and `>` prompts) and inline `aws …` code spans. Placeholders the documents use are
filled in: `<account>` is 123456789012, `$(<stepfunction_definition.json)` is the definition of
examples/hello-world-reverse (the document does not quote its file), and `<hash>` is the name of
the execution the preceding start-execution made. `--profile mydemouser` works through a
throw-away AWS config with dummy credentials and ISO timestamps (as the recorded outputs show).

Outputs are compared member by member: the same members, equal values, except that dates must
be ISO-8601 date-times and `<hash>` stands for the generated execution name.

Run by `cargo test --test server_clients` (which starts the server with the hello-world-reverse
mock file and `--test-case HiMom`, so the document's two Lambda functions answer as recorded).
Environment: EXPRESSWAY_ENDPOINT, EXPRESSWAY_SEEDS (folder of documents), EXPRESSWAY_DEFINITION.
"""

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

ENDPOINT = os.environ["EXPRESSWAY_ENDPOINT"]
SEEDS = os.environ["EXPRESSWAY_SEEDS"]
DEFINITION = open(os.environ["EXPRESSWAY_DEFINITION"]).read()
ACCOUNT = "123456789012"
PROMPT = re.compile(r"^[~/]\S*( \[[^\]]+\])? \$(\s|$)")  # `~/Work/x [main] $ `
ISO_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$")


def extract(text):
    """(command, recorded output or None) pairs, in document order."""
    found = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = PROMPT.match(line)
        if m and "aws" in line[m.end():].split()[:1]:
            parts = [line[m.end():]]
            while parts[-1].rstrip().endswith("\\") and i + 1 < len(lines):
                parts[-1] = parts[-1].rstrip()[:-1]
                i += 1
                parts.append(re.sub(r"^>\s*", "", lines[i]))
            command = " ".join(p.strip() for p in parts)
            out = []
            while i + 1 < len(lines) and not PROMPT.match(lines[i + 1]) and not lines[i + 1].startswith("```"):
                i += 1
                out.append(lines[i])
            output = "\n".join(out).strip() or None
            if " stepfunctions" in command:
                found.append((command, output))
        else:
            for span in re.findall(r"`(aws [^`]*)`", line):
                if " stepfunctions" in span:
                    found.append((span, None))
        i += 1
    return found


def config_files(tmp):
    config = os.path.join(tmp, "config")
    creds = os.path.join(tmp, "credentials")
    with open(config, "w") as f:
        for section in ("default", "profile mydemouser"):
            f.write(f"[{section}]\nregion = us-east-1\ncli_timestamp_format = iso8601\noutput = json\n")
    with open(creds, "w") as f:
        for section in ("default", "mydemouser"):
            f.write(f"[{section}]\naws_access_key_id = x\naws_secret_access_key = x\n")
    return config, creds


def run(command, env, hash_name):
    command = command.replace("<account>", ACCOUNT)
    command = command.replace('"$(<stepfunction_definition.json)"', shlex.quote(DEFINITION))
    if hash_name:
        command = command.replace("<hash>", hash_name)
    argv = shlex.split(command)
    assert argv[0] == "aws", command
    argv = [argv[0], "--endpoint-url", ENDPOINT] + argv[1:]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise AssertionError(f"{command}\nexit {done.returncode}\n{done.stderr}")
    return json.loads(done.stdout) if done.stdout.strip() else None


def compare(expected, actual, hash_name, where="$"):
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        assert set(expected) == set(actual), f"{where}: members {sorted(actual)} != recorded {sorted(expected)}"
        for k in expected:
            compare(expected[k], actual[k], hash_name, f"{where}.{k}")
    elif isinstance(expected, str) and ISO_DATE.match(expected):
        assert isinstance(actual, str) and ISO_DATE.match(actual), f"{where}: {actual!r} is not an ISO date-time"
    elif isinstance(expected, str):
        want = expected.replace("<account>", ACCOUNT)
        if hash_name:
            want = want.replace("<hash>", hash_name)
        assert want == actual, f"{where}: {actual!r} != recorded {want!r}"
    else:
        assert expected == actual, f"{where}: {actual!r} != recorded {expected!r}"


def main():
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        env["AWS_CONFIG_FILE"], env["AWS_SHARED_CREDENTIALS_FILE"] = config_files(tmp)
        for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_DEFAULT_REGION"):
            env.pop(var, None)
        ran = 0
        for doc in sorted(os.listdir(SEEDS)):
            text = open(os.path.join(SEEDS, doc)).read()
            hash_name = None
            for command, recorded in extract(text):
                actual = run(command, env, hash_name)
                if " describe-execution" in command:
                    # The document described the execution after it ended; so do we.
                    for _ in range(200):
                        if actual["status"] != "RUNNING":
                            break
                        actual = run(command, env, hash_name)
                if " start-execution" in command:
                    hash_name = actual["executionArn"].rsplit(":", 1)[1]
                if " list-state-machines" in command:
                    assert isinstance(actual["stateMachines"], list), actual
                if recorded is not None:
                    compare(json.loads(recorded.replace("<account>", ACCOUNT)), actual, hash_name)
                ran += 1
                print(f"ok  {doc}: {command[:100]}")
        assert ran > 0, "no aws stepfunctions command found in the documents"
        print(f"{ran} aws stepfunctions commands from the documents ran with the outputs AWS recorded")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
