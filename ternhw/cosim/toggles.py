"""Signal toggles of the generated RTL on a real workload: what each net of the design did.

The bulk harness built with Verilator's ``--coverage-toggle`` (``build_bulk(toggles=True)``)
counts, for every bit of every signal of every module instance, how often it changed between
two evaluations of the model, and writes the counts in Verilator's coverage format
(:func:`read_toggles`). A count means nothing without what drives the net, so
:func:`classify_nets` reads the same Verilog and sorts every net by its driver:

* ``register``: assigned in an ``always @(posedge clk)`` block (a flip-flop per bit);
* ``arith``: an ``assign`` of ``+`` or ``-`` (an adder or subtractor, one full adder per bit);
* ``mux``: an ``assign`` of ``?:`` or the target of an ``always @*`` process (Yosys writes
  next-state and case logic that way);
* ``logic``: an ``assign`` of any other operator (``& | ^ ~ ! == != < >`` and reductions);
* ``wire``: no logic of its own: a rename, slice, concatenation, constant, sign extension, a
  module input, or a net driven by a submodule's output (the driver is counted where it is);
* ``alias``: the same expression of the same operands as an earlier net of the module (a
  synthesis tool merges such duplicates, Yosys ``opt_merge``; Amaranth emits the accumulators'
  sum twice, once for the value and once for its range test);
* ``memory``: an array (``reg [W:0] mem [D:0]``), i.e. a buffer's SRAM, priced per access.

Each net also gets the component it belongs to (:func:`ternhw.energy.components` names):
submodule nets by their instance, the top level's and the output stage's registers by the
same name rules the energy model's flip-flop count uses, and their combinational nets by the
register or submodule their value flows into first (the group-sum adders feed the stage-2 sum
registers and so are adder-tree logic).

Verilator spells a non-identifier character of a name as ``__0XX`` (``$12`` is ``__02412``,
``status__busy`` is ``status___05Fbusy``); :func:`decode_name` undoes it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import TernhwError

KINDS = ("register", "arith", "mux", "logic", "wire", "alias", "memory")
_IDENT = re.compile(r"\\(\S+)|(?<![\w'$\\])([A-Za-z_][\w$]*)")
_DECL = re.compile(r"^\s*(input|output|wire|reg)\s+(?:signed\s+)?(?:\[(\d+):(\d+)\]\s*)?"
                   r"(\\\S+|[A-Za-z_][\w$]*)\s*(\[[^\]]*\])?")
#: A toggle point's name: the net (which may itself end in ``[i]``, an Amaranth view), then the
#: bit index if the net is a vector, then the direction.
_POINT = re.compile(r"^(.*?)(?:\[\d+\])?:[01]->[01]$")
_ENCODED = re.compile(r"__0([0-9A-Fa-f]{2})")
_ARITH = re.compile(r"(?:^|[^=!<>])\s[+-]\s|^\s*-\s")
_LOGIC = re.compile(r"[&|^~!<>]|==|!=")


def decode_name(name: str) -> str:
    """A Verilator-mangled signal name as the Verilog spells it (``__024`` is ``$``)."""
    return _ENCODED.sub(lambda m: chr(int(m.group(1), 16)), name)


def read_toggles(path: Path) -> dict[tuple[str, str], int]:
    """``{(module, net): toggles}`` from a Verilator coverage file: both directions of every
    bit summed; ``module`` is the instance path without Verilator's ``TOP.`` (for an Amaranth
    design, also the name of the Verilog module, which Amaranth names after its path)."""
    out: dict[tuple[str, str], int] = defaultdict(int)
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError as e:
        raise TernhwError(f"cannot read the toggle counts {path}: {e.strerror}") from None
    if not lines or not lines[0].startswith("# SystemC::Coverage"):
        raise TernhwError(f"{path} is not a Verilator coverage file")
    for line in lines[1:]:
        if not line.startswith("C '"):
            continue
        key, _, count = line[3:].rpartition("' ")
        fields = {p[0]: p[1:] for p in key.split("\x01") if p}
        if fields.get("t") != "\x02toggle":
            continue
        module = fields.get("h", "")[1:].removeprefix("TOP.")
        m = _POINT.match(decode_name(fields.get("o", "")[1:]))
        if m is None:
            continue
        net = m.group(1)
        out[(module, net)] += int(count)
    return dict(out)


@dataclass(frozen=True)
class Net:
    """One signal of one module: its width in bits, driver kind and component."""

    module: str
    name: str
    width: int
    kind: str
    component: str


@dataclass
class _Module:
    name: str
    widths: dict[str, int]
    ports: dict[str, str]                    # port -> "input" / "output"
    memories: set[str]
    kinds: dict[str, str]
    readers: dict[str, set[str]]             # net -> nets (or "@inst") whose value it feeds
    memory_of: dict[str, str]                # register -> memory it latches
    assigns: list = field(default_factory=list)       # (target, kind, rhs) in file order
    connections: list = field(default_factory=list)   # (instance, module, [(port, expr)])


def _idents(text: str, known) -> list[str]:
    return [a or b for a, b in _IDENT.findall(text) if (a or b) in known]


def _parse(verilog: str) -> dict[str, _Module]:
    mods: dict[str, _Module] = {}
    cur: _Module | None = None
    block: list[str] | None = None
    block_kind = ""
    single = False
    inst: list[str] | None = None

    def finish_block():
        targets, sources, memories = [], [], []
        for st in block:
            lhs, op, rhs = _split_statement(st)
            if op:
                target = _idents(lhs, cur.widths)
                if target:
                    targets.append(target[0])
                sources += _idents(lhs, cur.widths)[1:] + _idents(rhs, cur.widths)
                memories += _idents(rhs, cur.memories)
            else:
                sources += _idents(st, cur.widths)
        for t in set(targets):
            if t in cur.memories:
                continue
            cur.kinds[t] = "register" if block_kind == "posedge" else "mux"
            if memories and block_kind == "posedge":
                cur.memory_of[t] = memories[0]
            for s in set(sources):
                cur.readers[s].add(t)

    for raw in verilog.splitlines():
        line = raw.strip()
        if line.startswith("module "):
            name = line.split()[1].lstrip("\\").split("(")[0]
            cur = _Module(name, {}, {}, set(), {}, defaultdict(set), {})
            mods[name] = cur
            continue
        if cur is None:
            continue
        if line.startswith("endmodule"):
            cur = None
            continue
        if block is not None:
            if single:                               # `always @(...)` then one statement
                block.append(line)
                finish_block()
                block, single = None, False
            elif raw.startswith("  end") and not raw.startswith("   "):
                finish_block()
                block = None
            else:
                block.append(line)
            continue
        if inst is not None:
            inst.append(line)
            if line.endswith(");"):
                _instance(cur, inst)
                inst = None
            continue
        m = _DECL.match(raw)
        if m and raw.rstrip().endswith(";"):
            kind, hi, lo, name, array = m.groups()
            name = name.lstrip("\\")
            cur.widths[name] = abs(int(hi) - int(lo)) + 1 if hi is not None else 1
            if kind in ("input", "output"):
                cur.ports[name] = kind
            if array:
                cur.memories.add(name)
                cur.kinds[name] = "memory"
            continue
        if line.startswith("assign "):
            lhs, _, rhs = line[len("assign "):].rstrip(";").partition(" = ")
            target = _idents(lhs, cur.widths)
            if not target:
                continue
            t = target[0]
            srcs = _idents(rhs, cur.widths)
            for s in set(srcs):
                cur.readers[s].add(t)
            kind = _expr_kind(rhs)
            cur.assigns.append((t, kind, rhs))
            cur.kinds.setdefault(t, kind)
            continue
        if line.startswith(("always @(posedge", "always @*")):
            block = []
            block_kind = "posedge" if "posedge" in line else "comb"
            rest = line.split(")", 1)[1] if "posedge" in line else line[len("always @*"):]
            rest = rest.strip()
            if rest and rest != "begin":             # `always @(...) X <= Y;`
                block.append(rest)
                finish_block()
                block = None
            else:
                single = rest != "begin"
            continue
        if line.startswith("\\") and "(" in line:
            inst = [line]
            if line.endswith(");"):
                _instance(cur, inst)
                inst = None
    for mod in mods.values():
        for inst_name, child_name, conns in mod.connections:
            child = mods.get(child_name)
            for port, expr in conns:
                if child is not None and child.ports.get(port) == "input":
                    for n in _idents(expr, mod.widths):
                        mod.readers[n].add(f"@{inst_name}")
    _merge_duplicates(mods)
    return mods


def _instance(parent: _Module, lines: list[str]) -> None:
    head = lines[0].split()
    conns = []
    for ln in lines[1:]:
        m = re.match(r"\.(\w+)\((.*)\),?\)?;?$", ln.strip())
        if m:
            conns.append(m.groups())
    parent.connections.append((head[1].lstrip("\\").rstrip("("), head[0].lstrip("\\"),
                               conns))


def _merge_duplicates(mods: dict[str, _Module]) -> None:
    """Mark ``alias`` every operator net that computes what an earlier one computes from the
    same signals, across the whole (flattened) design: a submodule's input is named by what its
    parent connects to it, so the rows' lanes that negate the same column activation share one
    negation, as they do once synthesis flattens the design and merges identical cells."""
    children = {c for m in mods.values() for _, c, _ in m.connections}
    seen: dict[str, tuple[str, str]] = {}
    canon: dict[tuple[str, str], str] = {}

    def visit(mod: _Module, inputs: dict[str, str]) -> None:
        def glob(net: str) -> str:
            return inputs.get(net) or canon.get((mod.name, net)) or f"{mod.name}/{net}"

        def text(expr: str) -> str:
            return _IDENT.sub(lambda mm: glob(mm.group(1) or mm.group(2))
                              if (mm.group(1) or mm.group(2)) in mod.widths else mm.group(0),
                              expr).replace(" ", "")

        wires = [(t, rhs) for t, kind, rhs in mod.assigns if kind == "wire"]
        for _ in range(3):           # renames of renames, in whatever order the file has them
            for target, rhs in wires:
                canon[(mod.name, target)] = text(rhs)
        for target, kind, rhs in mod.assigns:
            if kind not in ("arith", "mux", "logic"):
                continue
            key = text(rhs)
            if key in seen and seen[key] != (mod.name, target):
                mod.kinds[target] = "alias"
                canon[(mod.name, target)] = glob_of(seen[key])
            else:
                seen[key] = (mod.name, target)
        for _, child_name, conns in mod.connections:
            child = mods.get(child_name)
            if child is not None:
                visit(child, {port: text(expr) for port, expr in conns
                              if child.ports.get(port) == "input"})

    def glob_of(key: tuple[str, str]) -> str:
        return canon.get(key) or f"{key[0]}/{key[1]}"

    for mod in mods.values():
        if mod.name not in children:
            visit(mod, {})


def _split_statement(st: str) -> tuple[str, str, str]:
    for op in (" <= ", " = "):
        if op in st and not st.startswith(("if ", "if(", "casez", "case ")):
            lhs, _, rhs = st.partition(op)
            return lhs, op.strip(), rhs.rstrip(";")
    return st, "", ""


def _expr_kind(rhs: str) -> str:
    if "?" in rhs:
        return "mux"
    if _ARITH.search(rhs.replace("$signed", "").replace("$unsigned", "")):
        return "arith"
    if _LOGIC.search(rhs):
        return "logic"
    return "wire"


def classify_nets(verilog: str, component_of_register, component_of_instance,
                  component_of_module) -> dict[tuple[str, str], Net]:
    """Every net of every module of ``verilog``: ``{(module, net): Net}``.

    ``component_of_module(module, net)`` names the component of a net of a submodule (None for
    the modules whose nets are attributed by flow: the top level and the output stage);
    ``component_of_register(module, register)`` a register of those;
    ``component_of_instance(module, instance)`` the component of a submodule instance; a
    memory's read latch belongs to the memory's instance name (``act_buf`` ...)."""
    mods = _parse(verilog)
    out: dict[tuple[str, str], Net] = {}
    for mod in mods.values():
        memo: dict[str, str] = {}

        def flow(net: str, seen: frozenset = frozenset(), mod=mod, memo=memo) -> str:
            """The component of the first register or submodule ``net``'s value reaches."""
            if net in memo:
                return memo[net]
            comp = "unattributed"
            for r in sorted(mod.readers.get(net, ())):
                if r.startswith("@"):
                    comp = component_of_instance(mod.name, r[1:])
                elif mod.kinds.get(r) == "register":
                    comp = register_comp(r)
                elif r not in seen:
                    comp = flow(r, seen | {net})
                if comp != "unattributed":
                    break
            memo[net] = comp
            return comp

        def register_comp(reg: str, mod=mod) -> str:
            if reg in mod.memory_of:
                return component_of_instance(mod.name, mod.memory_of[reg])
            return component_of_register(mod.name, reg)

        for name, width in mod.widths.items():
            kind = mod.kinds.get(name, "wire")
            comp = component_of_module(mod.name, name)
            if comp is None:
                if kind == "register":
                    comp = register_comp(name)
                elif kind == "memory":
                    comp = component_of_instance(mod.name, name)
                else:
                    comp = flow(name)
            out[(mod.name, name)] = Net(mod.name, name, width, kind, comp)
    return out
