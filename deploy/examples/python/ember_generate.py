#!/usr/bin/python3
"""Generates text with ember from Python: Debian's python3-grpcio and stubs made from proto/.

  deploy/examples/python/make_stubs.sh /tmp/ember_stubs
  PYTHONPATH=/tmp/ember_stubs /usr/bin/python3 deploy/examples/python/ember_generate.py \\
      --target=127.0.0.1:50051 --prompt="And God said" --max_new_tokens=32 --stream

Prints the completion on stdout and a summary on stderr; --json prints one JSON object instead
(text, token_ids, finish_reason, usage, timings). Exit status 1 on a failed call, with its gRPC
status code. tests/deploy runs it and holds its text to ember_cli's.
"""
import argparse
import json
import sys

import grpc

from ember.v1 import generation_pb2, generation_pb2_grpc


def build_request(args):
    sampling = generation_pb2.SamplingParameters()
    # proto3 `optional`: only a set field overrides the server's default, so 0.0 (greedy) must be
    # set explicitly rather than left at the zero value.
    if args.temperature is not None:
        sampling.temperature = args.temperature
    if args.top_p is not None:
        sampling.top_p = args.top_p
    if args.seed is not None:
        sampling.seed = args.seed
    return generation_pb2.GenerateRequest(
        model=args.model,
        prompt=args.prompt,
        sampling=sampling,
        max_new_tokens=args.max_new_tokens,
        ignore_eos=args.ignore_eos,
        return_token_ids=True,
    )


def generate(stub, request, args):
    """One unary Generate call: (text, token ids, the response carrying finish reason and usage)."""
    response = stub.Generate(request, timeout=args.deadline, wait_for_ready=True)
    return response.text, list(response.token_ids), response


def generate_stream(stub, request, args):
    """One GenerateStream call; prints each piece as it arrives unless --json."""
    text, token_ids, last = [], [], None
    for message in stub.GenerateStream(request, timeout=args.deadline, wait_for_ready=True):
        text.append(message.text)
        token_ids.extend(message.token_ids)
        if not args.json:
            sys.stdout.write(message.text)
            sys.stdout.flush()
        last = message  # the final message carries finish_reason, usage and timings
    return "".join(text), token_ids, last


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default="127.0.0.1:50051",
                        help="host:port, or a gRPC name such as "
                             "dns:///ember-headless.default.svc.cluster.local:50051")
    parser.add_argument("--lb_policy", default="",
                        help="round_robin: spread calls over every address the target resolves "
                             "to (with a headless Service); default pick_first")
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--model", default="", help="model name; empty means the default")
    parser.add_argument("--max_new_tokens", type=int, default=0, help="0: the server's default")
    parser.add_argument("--temperature", type=float, help="0 = greedy; unset: 1.0")
    parser.add_argument("--top_p", type=float)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--ignore_eos", action="store_true")
    parser.add_argument("--stream", action="store_true", help="use GenerateStream")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--deadline", type=float, default=60.0, help="seconds per call")
    args = parser.parse_args()

    options = [("grpc.lb_policy_name", args.lb_policy)] if args.lb_policy else []
    with grpc.insecure_channel(args.target, options=options) as channel:
        stub = generation_pb2_grpc.GenerationStub(channel)
        request = build_request(args)
        try:
            if args.stream:
                text, token_ids, last = generate_stream(stub, request, args)
            else:
                text, token_ids, last = generate(stub, request, args)
        except grpc.RpcError as e:
            print(f"ember_generate.py: {e.code().name}: {e.details()}", file=sys.stderr)
            return 1
    finish_reason = generation_pb2.FinishReason.Name(last.finish_reason)
    if args.json:
        print(json.dumps({
            "text": text,
            "token_ids": token_ids,
            "finish_reason": finish_reason,
            "usage": {"prompt_tokens": last.usage.prompt_tokens,
                      "generated_tokens": last.usage.generated_tokens},
            "timings": {"time_to_first_token_seconds": last.timings.time_to_first_token_seconds,
                        "decode_tokens_per_second": last.timings.decode_tokens_per_second,
                        "total_seconds": last.timings.total_seconds},
        }, ensure_ascii=False))
    else:
        if not args.stream:
            sys.stdout.write(text)
        sys.stdout.write("\n")
        print(f"ember_generate.py: {finish_reason}, {last.usage.generated_tokens} tokens "
              f"(prompt {last.usage.prompt_tokens}), TTFT "
              f"{last.timings.time_to_first_token_seconds * 1e3:.1f} ms, "
              f"{last.timings.total_seconds:.3f} s total", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
