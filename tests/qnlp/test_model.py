"""QNLPModel: shape batching, gradients, the saved vocabulary and settings, unknown words."""

from __future__ import annotations

import pytest
import torch

from circuits.errors import ConfigurationError
from qml.qnlp.model import QNLPModel, UnknownWordError

TEXTS = [
    "skillful man prepares sauce .",
    "woman cooks tasty meal .",
    "man prepares meal .",
    "person runs useful application .",
    "skillful woman debugs program .",
]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return QNLPModel(TEXTS, ansatz="sim15", layers=1, engine_options={"dtype": "complex128"})


def test_a_batch_equals_its_sentences_one_by_one(model):
    batch = model.probabilities(torch.arange(len(TEXTS)))
    assert model.n_shapes() == 3 and batch.shape == (5, 2)
    for i, text in enumerate(TEXTS):
        torch.testing.assert_close(model.probabilities([text])[0], batch[i], atol=1e-10, rtol=0)
    torch.testing.assert_close(batch.sum(1), torch.ones(5, dtype=batch.dtype))


def test_gradient_matches_finite_differences(model):
    x = torch.tensor([0, 2, 3])
    y = torch.tensor([1, 1, 0])
    loss = torch.nn.functional.nll_loss(model(x), y)
    (grad,) = torch.autograd.grad(loss, model.weights)
    eps = 1e-6
    for k in [model.index["man__n_0"], model.index["prepares__n.r@s@n.l_1"], model.index["sauce__n_2"]]:
        with torch.no_grad():
            model.weights[k] += eps
            up = torch.nn.functional.nll_loss(model(x), y)
            model.weights[k] -= 2 * eps
            down = torch.nn.functional.nll_loss(model(x), y)
            model.weights[k] += eps
        assert abs(float((up - down) / (2 * eps)) - float(grad[k])) < 1e-6
    assert float(grad.abs().max()) > 1e-3


def test_state_dict_carries_vocabulary_and_settings(model):
    state = model.state_dict()
    assert state["_extra_state"]["vocabulary"] == model.vocabulary
    twin = QNLPModel(TEXTS, ansatz="sim15", layers=1)
    twin.load_state_dict(state)
    torch.testing.assert_close(twin.weights, model.weights)
    with pytest.raises(ConfigurationError, match="layers: 1 vs 2"):
        QNLPModel(TEXTS, ansatz="sim15", layers=2).load_state_dict(state)
    with pytest.raises(ConfigurationError, match="vocabulary differs"):
        QNLPModel(TEXTS[:3], ansatz="sim15", layers=1).load_state_dict(state)


def test_unknown_words_error_or_use_the_learned_twin():
    strict = QNLPModel(TEXTS[:3])
    with pytest.raises(UnknownWordError, match="'pasta'"):
        strict.predict_proba("woman cooks tasty pasta .")
    with pytest.raises(UnknownWordError, match="unknown='unk'"):
        strict.predict_proba("woman cooks tasty pasta .")
    loose = QNLPModel(TEXTS[:3], unknown="unk", unk_dropout=0.5)
    assert "<unk>__n_0" in loose.index
    p = loose.predict_proba(["woman cooks tasty pasta .", "woman cooks tasty meal ."])
    assert p.shape == (2, 2) and not torch.allclose(p[0], p[1])
    # word dropout trains the twins: in training mode some batches route gradient to them
    torch.manual_seed(0)
    loose.train()
    loss = -loose(torch.arange(3)).sum()
    (grad,) = torch.autograd.grad(loss, loose.weights)
    assert float(grad[loose.index["<unk>__n_0"]].abs()) > 0


def test_discocirc_texts_read_the_protagonist_or_every_wire():
    texts = [
        "man bakes tasty lunch . he used to be a good shef . he likes mastering new recipes",
        "girl runs program . she was a modest engineer . she likes trying complex problems",
    ]
    torch.manual_seed(1)
    first = QNLPModel(texts, reader="discocirc", ansatz="sel", layers=1, rewriters=())
    mean = QNLPModel(texts, reader="discocirc", ansatz="sel", layers=1, rewriters=(), readout="mean")
    with pytest.raises(ConfigurationError, match="readout"):
        mean.load_state_dict(first.state_dict())
    with torch.no_grad():
        mean.weights.copy_(first.weights)
    p_first, p_mean = first.predict_proba(texts), mean.predict_proba(texts)
    torch.testing.assert_close(p_mean.sum(1), torch.ones(2, dtype=p_mean.dtype))
    assert not torch.allclose(p_first, p_mean)
    # the mean over the four wires: the protagonist's marginal is one of its four terms
    shape = first.compile(texts[0]).shape
    assert shape.n_qubits == 4 and shape.outputs == (0, 1, 2, 3)
