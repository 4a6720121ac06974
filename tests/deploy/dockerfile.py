"""A small reader of the repository's Dockerfile and .dockerignore, for the tests that check the
image without a Docker engine: instructions per stage, what each COPY brings, where each file of
the runtime image comes from in the CMake build tree, and Docker's .dockerignore matching."""
import json
import os
import re
import shlex


class Instruction:
    def __init__(self, keyword, args, line):
        self.keyword = keyword  # upper case: FROM, RUN, COPY, ...
        self.args = args        # the rest of the instruction, continuations joined
        self.line = line        # 1-based line of the keyword

    def __repr__(self):
        return f"{self.keyword} {self.args} (line {self.line})"


class Stage:
    def __init__(self, image, name):
        self.image = image
        self.name = name
        self.instructions = []

    def all(self, keyword):
        return [i for i in self.instructions if i.keyword == keyword]


def parse_instructions(text):
    """Dockerfile text -> [Instruction]: comment lines dropped (also inside continuations, as
    Docker does), backslash continuations joined."""
    instructions = []
    current, start = None, 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("#") or (current is None and not stripped):
            continue
        if current is None:
            current, start = "", number
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        keyword, _, args = current.partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip(), start))
        current = None
    if current is not None:
        raise AssertionError(f"Dockerfile ends inside a continuation started on line {start}")
    return instructions


def parse_stages(text):
    stages = []
    for instruction in parse_instructions(text):
        if instruction.keyword == "FROM":
            words = instruction.args.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
        elif not stages:
            if instruction.keyword != "ARG":
                raise AssertionError(f"{instruction!r} before the first FROM")
        else:
            stages[-1].instructions.append(instruction)
    return stages


def exec_form(args):
    """The JSON (exec) form of CMD/ENTRYPOINT/RUN/COPY, or None for the shell form."""
    if args.startswith("["):
        return json.loads(args)
    return None


class Copy:
    def __init__(self, instruction):
        words = exec_form(instruction.args) or instruction.args.split()
        self.flags = {}
        while words and words[0].startswith("--"):
            key, _, value = words.pop(0)[2:].partition("=")
            self.flags[key] = value
        if len(words) < 2:
            raise AssertionError(f"COPY needs a source and a destination: {instruction!r}")
        self.sources = words[:-1]
        self.destination = words[-1]
        self.line = instruction.line

    @property
    def from_stage(self):
        return self.flags.get("from")


def copies(stage):
    return [Copy(i) for i in stage.all("COPY")]


def env_vars(stage):
    """ENV key=value pairs of a stage, in order (the legacy `ENV key value` form too)."""
    result = {}
    for instruction in stage.all("ENV"):
        words = shlex.split(instruction.args)
        if words and "=" not in words[0]:
            result[words[0]] = " ".join(words[1:])
            continue
        for word in words:
            key, _, value = word.partition("=")
            result[key] = value
    return result


def shell_commands(run_args):
    """A RUN's shell text split into simple commands (on &&, ||, ;), each as a word list."""
    commands = []
    for part in re.split(r"&&|\|\||;", run_args):
        words = shlex.split(part, comments=False)
        if words:
            commands.append(words)
    return commands


def installed_packages(stage):
    """Package names of every `apt-get install` in the stage's RUN instructions."""
    packages = []
    for instruction in stage.all("RUN"):
        for words in shell_commands(instruction.args):
            # Skip leading VAR=value assignments (DEBIAN_FRONTEND=noninteractive apt-get ...).
            while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
                words = words[1:]
            if len(words) >= 2 and words[0] == "apt-get" and "install" in words:
                after = words[words.index("install") + 1:]
                packages += [w for w in after if not w.startswith("-")]
    return packages


def build_stage_outputs(stage, build_dir):
    """{path in the build stage: path in the CMake build tree} for every file or directory the
    build stage's RUN commands copy out of /build with `cp [-r] SRC... DIR/`."""
    outputs = {}
    for instruction in stage.all("RUN"):
        for words in shell_commands(instruction.args):
            if words[0] != "cp":
                continue
            paths = [w for w in words[1:] if not w.startswith("-")]
            *sources, destination = paths
            for source in sources:
                if not source.startswith("/build/"):
                    raise AssertionError(f"cp of {source}: only /build outputs are expected")
                local = os.path.join(build_dir, source[len("/build/"):])
                target = os.path.join(destination, os.path.basename(source.rstrip("/")))
                outputs[os.path.normpath(target)] = local
    return outputs


def image_files(stages, build_dir):
    """{path in the final image: path in the CMake build tree} for what the final stage copies from
    the build stage."""
    by_name = {s.name: s for s in stages if s.name}
    final = stages[-1]
    result = {}
    for copy in copies(final):
        if copy.from_stage is None:
            continue
        if copy.from_stage not in by_name:
            raise AssertionError(f"COPY --from={copy.from_stage}: no such stage (line {copy.line})")
        outputs = build_stage_outputs(by_name[copy.from_stage], build_dir)
        for source in copy.sources:
            source_dir = os.path.normpath(source)
            matched = False
            for produced, local in outputs.items():
                if produced == source_dir or produced.startswith(source_dir + "/"):
                    relative = os.path.relpath(produced, source_dir)
                    target = os.path.normpath(os.path.join(copy.destination, relative))
                    result[target] = local
                    matched = True
            if not matched:
                raise AssertionError(
                    f"COPY --from={copy.from_stage} {source} (line {copy.line}): the build stage "
                    "produces nothing there")
    return result


def resolve_image_path(path, files):
    """A path inside the final image -> the build-tree path it comes from, or None."""
    path = os.path.normpath(path)
    for image_path, local in files.items():
        if path == image_path:
            return local
        if path.startswith(image_path + "/"):
            return os.path.join(local, os.path.relpath(path, image_path))
    return None


class DockerIgnore:
    """Docker's .dockerignore semantics: patterns relative to the context root, ** for any number
    of directories, the last matching pattern wins, ! re-includes, and a path is excluded when it
    or one of its parent directories is."""

    def __init__(self, text):
        self.rules = []
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            pattern = os.path.normpath(line.lstrip("!").strip().lstrip("/"))
            self.rules.append((negate, self._regex(pattern), line))

    @staticmethod
    def _regex(pattern):
        out, i = "", 0
        while i < len(pattern):
            c = pattern[i]
            if pattern.startswith("**/", i):
                out += "(?:.*/)?"
                i += 3
                continue
            if pattern.startswith("**", i):
                out += ".*"
                i += 2
                continue
            out += {"*": "[^/]*", "?": "[^/]"}.get(c, re.escape(c))
            i += 1
        return re.compile(f"^{out}$")

    def excluded(self, relative_path):
        parts = os.path.normpath(relative_path).split("/")
        prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
        result = False
        for negate, regex, _ in self.rules:
            if any(regex.match(p) for p in prefixes):
                result = not negate
        return result
