"""A chat service labels its answer as it streams, token by token.

    python chat_stream.py KEY_FILE PRODUCER

Send what `push` returns as soon as you get it and `finish()` at the end: the user sees the
prompt first, then the answer with invisible markers, then the sealed record. The whole is the
same text `aigcmark.label` would give for the complete answer.
"""

import sys

import aigcmark


def model_tokens():
    """A stand-in for an LLM's token stream."""
    answer = "The sea covers about 71% of the Earth's surface.\n\nIt holds 97% of its water."
    for i in range(0, len(answer), 4):
        yield answer[i:i + 4]


def main(key_file: str, producer: str) -> None:
    signer = aigcmark.Signer.load(key_file)
    stream = aigcmark.TextLabelStream(signer, producer)
    for token in model_tokens():
        sys.stdout.write(stream.push(token))  # to the client (SSE, websocket, ...)
        sys.stdout.flush()
    sys.stdout.write(stream.finish())
    print(f"\n(ProduceID {stream.produce_id})", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:3])
