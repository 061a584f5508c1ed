"simple_net: the hand-written network equals nn.Sequential, its gradients equal autograd's, and the band."
import torch
import torch.nn.functional as F

from reference.device import set_seed
from reference.simple_net import BAND, init_simple_net, learner_simple_net, sequential_net, simple_net


def _copied_params(net):
    lin1, _, lin2 = net
    return [t.detach().clone().requires_grad_() for t in (lin1.weight.T, lin1.bias, lin2.weight.T, lin2.bias)]


def test_init_simple_net_shapes():
    set_seed(0)
    w1, b1, w2, b2 = init_simple_net()
    assert (w1.shape, b1.shape, w2.shape, b2.shape) == ((784, 30), (30,), (30, 1), (1,))
    assert all(p.requires_grad for p in (w1, b1, w2, b2))


def test_relu_by_max_is_f_relu():
    x = torch.randn(100)
    assert torch.equal(x.max(torch.tensor(0.0)), F.relu(x))


def test_simple_net_equals_nn_sequential():
    set_seed(1)
    net = sequential_net()
    xb = torch.rand(16, 784)
    assert torch.allclose(simple_net(xb, *_copied_params(net)), net(xb), atol=1e-6)


def test_simple_net_gradients_equal_the_modules():
    set_seed(2)
    net = sequential_net()
    params = _copied_params(net)
    xb, yb = torch.rand(16, 784), torch.randint(0, 2, (16, 1))
    F.binary_cross_entropy_with_logits(simple_net(xb, *params), yb.float()).backward()
    F.binary_cross_entropy_with_logits(net(xb), yb.float()).backward()
    lin1, _, lin2 = net
    for p, ref in zip(params, (lin1.weight.grad.T, lin1.bias.grad, lin2.weight.grad.T, lin2.bias.grad)):
        assert torch.allclose(p.grad, ref, atol=1e-6)


def test_learner_band_the_books_configuration(mnist_dir):
    r = learner_simple_net(40, 0.1, seed=42, device="cpu")  # about 4 s on 2 cores
    assert len(r["accs"]) == 40
    assert r["final"] >= BAND  # book 0.982826; measured 0.9818 at seed 42
    assert r["accs"][-1] > r["accs"][0]

