"""Compile Qiskit ``ParameterExpression``s into torch functions so gradients flow through them."""

from __future__ import annotations

from collections.abc import Callable

import sympy
import torch
from qiskit.circuit import Parameter, ParameterExpression

from ...errors import ParameterError

# A compiled expression maps the (B, P) value tensor to a (B,) tensor (or a python float).
Evaluator = Callable[[torch.Tensor], "torch.Tensor | float"]

_UNARY: dict[type, Callable[[torch.Tensor], torch.Tensor]] = {
    sympy.sin: torch.sin,
    sympy.cos: torch.cos,
    sympy.tan: torch.tan,
    sympy.asin: torch.asin,
    sympy.acos: torch.acos,
    sympy.atan: torch.atan,
    sympy.exp: torch.exp,
    sympy.log: torch.log,
    sympy.Abs: torch.abs,
    sympy.sign: torch.sign,
    sympy.sinh: torch.sinh,
    sympy.cosh: torch.cosh,
    sympy.tanh: torch.tanh,
}


def compile_parameter(value, index: dict[str, int]) -> Evaluator:
    """Return a function ``values -> (B,) tensor | float`` for a gate parameter."""
    if isinstance(value, Parameter):
        col = _column(value.name, index)
        return lambda v: v[:, col]
    if isinstance(value, ParameterExpression):
        if not value.parameters:
            const = complex(value)
            return _const(const)
        return _compile_sympy(value.sympify(), index)
    return _const(complex(value))


def _const(c: complex) -> Evaluator:
    if abs(c.imag) > 1e-12:
        raise ParameterError(f"gate parameter {c} is complex; gate parameters must be real")
    r = float(c.real)
    return lambda v: r


def _column(name: str, index: dict[str, int]) -> int:
    try:
        return index[name]
    except KeyError:
        raise ParameterError(f"parameter {name!r} is not a parameter of the circuit") from None


def _compile_sympy(expr, index: dict[str, int]) -> Evaluator:
    if expr.is_Symbol:
        col = _column(expr.name, index)
        return lambda v: v[:, col]
    if expr.is_Number or expr.is_NumberSymbol:
        c = complex(expr)
        return _const(c)
    args = [_compile_sympy(a, index) for a in expr.args]
    if expr.is_Add:
        return lambda v: _sum(f(v) for f in args)
    if expr.is_Mul:
        return lambda v: _prod(f(v) for f in args)
    if expr.is_Pow:
        base, exponent = args
        return lambda v: base(v) ** exponent(v)
    fn = _UNARY.get(type(expr)) or _UNARY.get(expr.func)
    if fn is not None and len(args) == 1:
        (inner,) = args
        return lambda v: _apply(fn, inner(v))
    if isinstance(expr, (sympy.re, sympy.conjugate)) and len(args) == 1:
        return args[0]  # parameters are real
    if isinstance(expr, sympy.im):
        return lambda v: 0.0
    raise ParameterError(f"cannot evaluate the parameter expression {expr} in torch")


def _apply(fn, x):
    if isinstance(x, torch.Tensor):
        return fn(x)
    return float(fn(torch.tensor(x, dtype=torch.float64)))


def _sum(items):
    total = 0.0
    for x in items:
        total = total + x
    return total


def _prod(items):
    total = 1.0
    for x in items:
        total = total * x
    return total
