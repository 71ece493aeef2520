#!/bin/bash
# Reports what the agent finds (paths, variables, arguments, files it can see) to
# $LOGS_DIR/probe.txt, asks validate_submission.sh about a missing, a bad and a good
# submission, and submits the sample submission.
report=$LOGS_DIR/probe.txt
{
    echo "args: $*"
    echo "competition: $COMPETITION_ID"
    echo "dirs: $SUBMISSION_DIR $LOGS_DIR $CODE_DIR $AGENT_DIR"
    echo "limit: $PROBE_LIMIT"
    echo "secret-sha256: $(printf %s "$PROBE_SECRET" | sha256sum | cut -d' ' -f1)"
    echo "openai-key-sha256: $(printf %s "$OPENAI_API_KEY" | sha256sum | cut -d' ' -f1)"
    echo "cwd: $(pwd)"
    for path in /home/data/description.md /home/instructions.txt /home/validate_submission.sh \
        "$AGENT_DIR/start.sh" "$AGENT_DIR/config.yaml"; do
        [ -f "$path" ] && echo "present: $path"
    done
    touch "$AGENT_DIR/agent_was_here.txt" && echo "agent dir writable"
    touch /home/data/x 2>/dev/null || echo "data read-only"
    [ -e /private ] && echo "private exists"
    echo "--- usage"
    bash /home/validate_submission.sh; echo "exit $?"
    echo "--- missing"
    bash /home/validate_submission.sh "$CODE_DIR/none.csv"; echo "exit $?"
    echo "--- bad"
    printf 'PassengerId,Wrong\n0001_01,1\n' > "$CODE_DIR/bad.csv"
    bash /home/validate_submission.sh "$CODE_DIR/bad.csv"; echo "exit $?"
    cp /home/data/sample_submission.csv "$SUBMISSION_DIR/submission.csv"
    echo "--- good"
    bash /home/validate_submission.sh "$SUBMISSION_DIR/submission.csv"; echo "exit $?"
    echo "--- end"
} > "$report" 2>&1
# Every file the agent can see outside the system folders, with its size.
find / \( -path /proc -o -path /sys -o -path /dev -o -path /usr \) -prune -o -type f \
    -printf '%s %p\n' > "$LOGS_DIR/files.txt" 2>/dev/null
exit 0
