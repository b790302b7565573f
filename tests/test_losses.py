"Unit tests for singan_gif_lib.losses: closed forms on linear and patch critics, error cases, spectral norm."
import math
import pytest
import torch
from torch import nn
from singan_gif_lib.core import SinganGifError
from singan_gif_lib.losses import (LossInputError, wgan_critic_loss, wgan_generator_loss, hinge_critic_loss, hinge_generator_loss,
    ns_critic_loss, ns_generator_loss, interpolate, gradient_norms, wgan_gp_penalty, lipschitz_penalty, zero_centered_penalty,
    drift_penalty, r1_penalty, spectral_norm_all, remove_layernorm)


class LinearCritic(nn.Module):
    def __init__(self, w): super().__init__(); self.w = nn.Parameter(w.clone())
    def forward(self, x): return (x * self.w).flatten(1).sum(1)


def _w(shape, norm, seed=0):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(*shape, generator=g)
    return w / w.norm() * norm


def test_wgan_losses_patch_scores():
    real, fake = torch.tensor([[1., 2.], [3., 4.]]), torch.tensor([[0., 0.], [1., -1.]])
    assert wgan_critic_loss(real, fake).item() == pytest.approx(0 - 2.5)
    assert wgan_generator_loss(fake).item() == pytest.approx(0.0)
    assert wgan_generator_loss(torch.tensor([2., 4.])).item() == pytest.approx(-3.0)


def test_hinge_and_ns_values():
    r, f = torch.tensor([0.5, 3.]), torch.tensor([-0.5, -3.])
    assert hinge_critic_loss(r, f).item() == pytest.approx((0.5 + 0) / 2 + (0.5 + 0) / 2)
    assert hinge_generator_loss(f).item() == pytest.approx(1.75)
    sp = lambda u: math.log1p(math.exp(u))
    assert ns_critic_loss(r, f).item() == pytest.approx((sp(-0.5) + sp(-3)) / 2 + (sp(-0.5) + sp(-3)) / 2, rel=1e-5)
    assert ns_generator_loss(f).item() == pytest.approx((sp(0.5) + sp(3)) / 2, rel=1e-5)
    # numerically stable for huge logits
    assert torch.isfinite(ns_critic_loss(torch.tensor([-1e4]), torch.tensor([1e4])))


def test_interpolate_per_sample_alpha_2d_and_3d():
    for shape in [(3, 2, 4, 4), (3, 2, 2, 4, 4)]:
        real, fake = torch.randn(shape), torch.randn(shape)
        alpha = torch.tensor([0., 0.5, 1.])
        xh = interpolate(real, fake, alpha)
        assert xh.requires_grad and xh.shape == real.shape
        torch.testing.assert_close(xh[0], real[0]); torch.testing.assert_close(xh[2], fake[2])
        torch.testing.assert_close(xh[1], (real[1] + fake[1]) / 2)
    # random alpha: one weight per sample, in [0, 1]
    real, fake = torch.zeros(4, 3, 5), torch.ones(4, 3, 5)
    xh = interpolate(real, fake)
    for b in range(4): assert xh[b].unique().numel() == 1
    assert ((xh >= 0) & (xh <= 1)).all()


def test_interpolate_detaches_generator():
    fake = torch.randn(2, 3, requires_grad=True)
    xh = interpolate(torch.randn(2, 3), fake * 2, 0.5)
    assert xh.is_leaf and xh.requires_grad


def test_interpolate_errors():
    with pytest.raises(LossInputError, match='same shape'): interpolate(torch.zeros(2, 3), torch.zeros(3, 3))
    with pytest.raises(SinganGifError, match='alpha must be'): interpolate(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 3))


@pytest.mark.parametrize('norm', [0.3, 1.7])
@pytest.mark.parametrize('shape', [(3, 4, 4), (3, 2, 4, 4)])
def test_penalties_closed_form_linear(norm, shape):
    D = LinearCritic(_w(shape, norm))
    real, fake = torch.randn(5, *shape), torch.randn(5, *shape)
    torch.testing.assert_close(gradient_norms(D, real), torch.full((5,), norm), rtol=1e-4, atol=1e-5)
    assert wgan_gp_penalty(D, real, fake).item() == pytest.approx((norm - 1) ** 2, rel=1e-4, abs=1e-6)
    assert lipschitz_penalty(D, real, fake).item() == pytest.approx(max(0, norm - 1) ** 2, rel=1e-4, abs=1e-6)
    assert zero_centered_penalty(D, real, fake).item() == pytest.approx(norm ** 2, rel=1e-4)
    assert r1_penalty(D, real).item() == pytest.approx(norm ** 2, rel=1e-4)


def test_patch_critic_closed_form():
    # stride = kernel: P non-overlapping patches, per-sample score = mean; grad at each pixel = w / P
    conv = nn.Conv2d(2, 1, 3, stride=3, bias=True)
    with torch.no_grad(): conv.weight.copy_(torch.arange(18.).reshape(1, 2, 3, 3) / 10)
    x = torch.randn(3, 2, 6, 9)                                  # 2 x 3 = 6 patches
    expected = conv.weight.norm().item() / math.sqrt(6)
    torch.testing.assert_close(gradient_norms(conv, x), torch.full((3,), expected), rtol=1e-5, atol=1e-6)
    assert wgan_gp_penalty(conv, x, torch.randn_like(x)).item() == pytest.approx((expected - 1) ** 2, rel=1e-4)
    # overlapping 3D patch critic vs numerical per-sample gradient of the mean score
    conv3 = nn.Conv3d(2, 1, 2).double()
    x = torch.randn(2, 2, 3, 4, 4, dtype=torch.double)
    n = gradient_norms(conv3, x)
    for b in range(2):
        xb = x[b:b + 1].clone().requires_grad_(True)
        g, = torch.autograd.grad(conv3(xb).mean(), xb)
        assert n[b].item() == pytest.approx(g.norm().item(), rel=1e-5)


def test_samples_independent():
    # the per-sample norm must not mix samples: changing sample 1 leaves sample 0's norm unchanged
    D = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Tanh(), nn.Conv2d(4, 1, 3))
    x = torch.randn(2, 3, 8, 8)
    n1 = gradient_norms(D, x)
    x2 = x.clone(); x2[1] = torch.randn(3, 8, 8) * 5
    n2 = gradient_norms(D, x2)
    assert n1[0].item() == pytest.approx(n2[0].item(), rel=1e-5)
    assert n1[1].item() != pytest.approx(n2[1].item(), rel=1e-3)


def test_penalty_gradient_reaches_critic():
    w = torch.tensor([0.6, 0.8]) * 3                                   # |w| = 3
    D = LinearCritic(w)
    wgan_gp_penalty(D, torch.randn(4, 2), torch.randn(4, 2)).backward()
    torch.testing.assert_close(D.w.grad, 2 * (3 - 1) * w / 3)
    D = LinearCritic(w); zero_centered_penalty(D, torch.randn(4, 2), torch.randn(4, 2)).backward()
    torch.testing.assert_close(D.w.grad, 2 * w)
    D = LinearCritic(w * 0.1); lipschitz_penalty(D, torch.randn(4, 2), torch.randn(4, 2)).backward()
    torch.testing.assert_close(D.w.grad, torch.zeros(2))              # |w| < 1: no push
    D = LinearCritic(w); r1_penalty(D, torch.randn(4, 2)).backward()
    torch.testing.assert_close(D.w.grad, 2 * w)


def test_zero_gradient_is_finite():
    D = LinearCritic(torch.zeros(3))
    for p in (zero_centered_penalty(D, torch.randn(2, 3), torch.randn(2, 3)), r1_penalty(D, torch.randn(2, 3))):
        p.backward(); assert torch.isfinite(D.w.grad).all() and p.item() == 0


def test_autocast_float32_norms():
    D = nn.Sequential(nn.Conv2d(3, 4, 3), nn.LeakyReLU(0.2), nn.Conv2d(4, 1, 3))
    x = torch.randn(2, 3, 8, 8)
    ref = gradient_norms(D, x)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        n = gradient_norms(D, x)
        p = lipschitz_penalty(D, x, torch.randn_like(x))
    assert n.dtype == torch.float32 and p.dtype == torch.float32
    torch.testing.assert_close(n, ref, rtol=5e-2, atol=1e-3)


def test_critic_batch_mismatch_error():
    with pytest.raises(LossInputError, match='1 scores for a batch of 3'):
        gradient_norms(lambda x: x.sum().reshape(1), torch.randn(3, 2))


def test_drift_penalty():
    assert drift_penalty(torch.tensor([[1., 2.], [3., 0.]])).item() == pytest.approx(1e-4 * 14 / 4)
    assert drift_penalty(torch.tensor([3.]), eps_drift=0.5).item() == pytest.approx(4.5)


def _sigma(W): return torch.linalg.matrix_norm(W.reshape(W.shape[0], -1), ord=2).item()


def test_spectral_norm_all_linear_conv_convtranspose():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.GroupNorm(2, 8), nn.LeakyReLU(), nn.ConvTranspose2d(8, 4, 2, stride=2),
                        nn.Identity(), nn.Flatten(), nn.Linear(4 * 12 * 12, 1))
    with torch.no_grad():
        for m in (net[0], net[3], net[6]): m.weight.mul_(5)
    assert _sigma(net[6].weight) > 2
    spectral_norm_all(net)
    for _ in range(40): net(torch.randn(2, 3, 8, 8))
    net.eval()
    assert _sigma(net[0].weight) == pytest.approx(1, abs=1e-2)
    assert _sigma(net[3].weight.transpose(0, 1)) == pytest.approx(1, abs=1e-2)
    assert _sigma(net[6].weight) == pytest.approx(1, abs=1e-2)
    assert isinstance(net[1], nn.GroupNorm)
    # trainable through the parametrization
    net.train(); net(torch.randn(2, 3, 8, 8)).sum().backward()
    assert net[6].parametrizations.weight.original.grad is not None


def test_spectral_norm_all_removes_norm_and_idempotent():
    net = nn.Sequential(nn.Conv3d(3, 4, 3), nn.LayerNorm([4, 2, 2, 2]), nn.Flatten(), nn.Linear(32, 1))
    spectral_norm_all(net, exclude_norm=False); spectral_norm_all(net)
    assert isinstance(net[1], nn.Identity)
    assert sum(k.endswith('original') for k in net.state_dict()) == 2
    assert net(torch.randn(2, 3, 4, 4, 4)).shape == (2, 1)


def test_remove_layernorm_nested():
    net = nn.Sequential(nn.Sequential(nn.Linear(2, 2), nn.LayerNorm(2)), nn.GroupNorm(1, 2), nn.BatchNorm1d(2))
    remove_layernorm(net)
    assert isinstance(net[0][1], nn.Identity) and isinstance(net[1], nn.Identity) and isinstance(net[2], nn.BatchNorm1d)
    assert isinstance(remove_layernorm(nn.LayerNorm(3)), nn.Identity)


def test_pixel_gradient_penalty_closed_form_and_size_independence():
    "SinGAN's penalty: per-pixel channel norm of the gradient of the summed scores; (||w|| - 1)^2 for a 1x1 linear critic at any size."
    from singan_gif_lib.losses import pixel_gradient_penalty
    conv = nn.Conv2d(3, 1, 1, bias=False)
    with torch.no_grad(): conv.weight.copy_(torch.tensor([0.3, 0.4, 0.0]).view(1, 3, 1, 1))   # ||w|| = 0.5
    vals = [pixel_gradient_penalty(conv, torch.randn(2, 3, s, s), torch.randn(2, 3, s, s)).item() for s in (3, 17, 40)]
    assert vals == pytest.approx([0.25] * 3, rel=1e-5)
    per_sample = [wgan_gp_penalty(conv, torch.randn(2, 3, s, s), torch.randn(2, 3, s, s)).item() for s in (3, 40)]
    assert per_sample[0] != pytest.approx(per_sample[1], rel=0.1)           # the per-sample form depends on the size
    conv3 = nn.Conv3d(3, 1, (1, 1, 1), bias=False)
    with torch.no_grad(): conv3.weight.fill_(1.0)                            # ||w|| = sqrt(3)
    p = pixel_gradient_penalty(conv3, torch.zeros(1, 3, 2, 4, 4), torch.ones(1, 3, 2, 4, 4))
    assert p.item() == pytest.approx((3 ** 0.5 - 1) ** 2, rel=1e-5)
    p.backward(); assert conv3.weight.grad is not None and conv3.weight.grad.abs().sum() > 0   # it trains the critic
    with pytest.raises(LossInputError, match='scores for a batch'): pixel_gradient_penalty(lambda x: x.sum()[None], torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4))
