"""Every paper trains through core.train_run: the same seed gives the same results as before the runs shared one shape.

PINNED was recorded at tiny sizes with the per-paper training code that `train_run` replaced (commit c922ea4): the
last logged value of every loss, the sum of |weights| of the trained networks and the checkpoint file names. A change
of any paper's step, seeding, checkpoint name or resume logic moves one of them.
"""
import math
from pathlib import Path

import pytest
import torch

from singan_gif_lib.core import TrainRun, load_checkpoint

torch.set_num_threads(1)

PINNED = {'ivgan': {'last': {'critic_loss': 5.7566061,
                    'wasserstein': 0.0517287,
                    'penalty': 5.8083348,
                    'generator_loss': -0.0105445,
                    'distance': 150.1064847,
                    'final_fvd': 132.2751984,
                    'final_fvd_std': 8.3370262,
                    'final_swd': 0.3479014,
                    'final_swd_std': 0.0261831,
                    'final_distance': 132.2751984,
                    'final_distance_std': 8.3370262},
           'w': 2712.10874,
           'files': ['gp-2207283a75.json', 'gp-2207283a75.safetensors']},
 'stylegan': {'last': {'critic_loss': 1.0975029, 'generator_loss': 0.9954931, 'r1': 0.2703648},
              'w': 14427.51681,
              'files': ['stylegan8-a0934e4e8d.json', 'stylegan8-a0934e4e8d.safetensors']},
 'mocogan_hd': {'last': {'d_video': 1.1362236,
                         'gp': 3.8741417,
                         'd_image': 1.3082892,
                         'contrastive': 1.3891761,
                         'g_video': 1.1842495,
                         'g_image': 1.2858286,
                         'feature_matching': 1e-07,
                         'mutual_info': -0.1568596,
                         'g_total': 2.6269376},
                'w': 333.87234,
                'files': ['motion-24045b9b3b.json', 'motion-24045b9b3b.safetensors']},
 'video_ae': {'last': {'video_ae': {'loss': 6.7811184,
                                    'l1': 0.5116919,
                                    'perceptual': 0.0,
                                    'adv': -0.0325168,
                                    'fm': 0.1696716,
                                    'kl': 1.0945758,
                                    'd_t': 1.9956623,
                                    'd_s': 1.9975851,
                                    'gp': 5.6e-06},
                       'image_ae': {'l1': 0.3878303},
                       'flow': {'nll': -21.034399}},
              'w': [1421.41203, 5962.2193, 598.77828, 831.8912],
              'files': ['flow-129a39a6f3/cinn.json',
                        'flow-129a39a6f3/cinn.safetensors',
                        'image_ae.json',
                        'image_ae.safetensors',
                        'model.json',
                        'model.safetensors',
                        'video_ae.json',
                        'video_ae.safetensors']},
 'cinn': {'last': {'nll': 8.5400524}, 'w': 51.34979, 'files': ['cinn.json', 'cinn.safetensors']},
 'singan_gif': {'last': [{'critic': -0.0618324, 'rec': 0.4921066, 'rec_end': 0.4995673},
                         {'critic': -0.0665788, 'rec': 0.5063503, 'rec_end': 0.5000387},
                         {'critic': -0.0586881, 'rec': 0.5157934, 'rec_end': 0.505707},
                         {'critic': -0.014012, 'rec': 0.4998401, 'rec_end': 0.5119082}],
                'w': 25286.51655,
                'files': ['singan_gif.json', 'singan_gif.safetensors']}}


def weight_sum(m) -> float:
    return float(sum(p.detach().double().abs().sum() for p in m.state_dict().values() if p.is_floating_point()))


def files(d: Path) -> list[str]:
    return sorted(str(p.relative_to(d)) for p in d.rglob('*') if p.is_file())


def close(a, b) -> bool:
    return math.isclose(a, b, rel_tol=2e-4, abs_tol=2e-6)


def check(name, last: dict, w, got_files):
    want = PINNED[name]
    assert got_files == want['files']
    for k, v in want['last'].items(): assert close(last[k], v), (name, k, last[k], v)
    ws = w if isinstance(w, list) else [w]
    for a, b in zip(ws, want['w'] if isinstance(want['w'], list) else [want['w']]): assert close(a, b), (name, a, b)


def test_ivgan(tmp_path):
    from ivgan_toys import Toy, tiny
    from singan_gif_lib.ivgan import train_ivgan, IVGANRun
    c = tiny()
    G, h = train_ivgan(c, 'gp', Toy(c), tmp_path, show_progress=False)
    check('ivgan', {k: v[-1] for k, v in h.values.items()}, weight_sum(G), files(tmp_path))
    assert issubclass(IVGANRun, TrainRun) and h.steps['seconds'] == [c.n_steps]


def test_stylegan(tmp_path):
    from singan_gif_lib.stylegan import StyleGANConfig, train_stylegan, sky_frames
    c = StyleGANConfig.from_preset('ci', size=8, channel_base=64, channel_max=16, z_dim=8, w_dim=8, batch_size=4, n_steps=3,
                                   n_images=8, checkpoint_every=0, r1_every=2)
    G, h = train_stylegan(c, sky_frames(8, 8), tmp_path, show_progress=False)
    check('stylegan', {k: v[-1] for k, v in h.values.items()}, weight_sum(G), files(tmp_path))
    meta = load_checkpoint(next(tmp_path.glob('*.safetensors')))[1]
    assert meta['seconds'] == pytest.approx(G.train_info['seconds'], rel=0.5) and meta['step'] == 3


def test_mocogan_hd(tmp_path):
    from singan_gif_lib.mocogan_hd import MoCoGANHDConfig, train_motion_generator, sky_clips, ToyImageGenerator
    c = MoCoGANHDConfig.from_preset('ci', n_steps=2, pca_samples=300, batch_size=2, n_frames=3, n_clips=3, hidden_dim=8, d_width=4,
                                    proj_dim=8, queue_size=8, n_pca=8, unroll=1, lambda_typical=0.0)   # the paper's objective, as pinned
    torch.manual_seed(0); Gi = ToyImageGenerator(z_dim=12, w_dim=16, size=16, width=16).eval().requires_grad_(False)
    M, h = train_motion_generator(c, Gi, tmp_path, show_progress=False, dataset=sky_clips(c, Gi.size, n_clips=3))
    check('mocogan_hd', {k: v[-1] for k, v in h.values.items()}, weight_sum(M), files(tmp_path))


def test_cinn_image_to_video(tmp_path):
    from singan_gif_lib.video_ae import VideoAEConfig, train_image_to_video
    from singan_gif_lib.data import SkyTimelapse
    c = VideoAEConfig.from_preset('ci', n_steps=3, img_steps=3, flow_steps=3,   # the supplement's architecture, as pinned
                                  encoder='resnet3d', decoder='spade', occlusion=False, lambda_rec=10.0, lambda_f=10.0)
    ds = SkyTimelapse(n_clips=6, n_frames=c.n_frames, size=tuple(c.size), seed=0)
    model, hs = train_image_to_video(c, ds, tmp_path, show_progress=False, perceptual=False)
    last = {st: {k: v[-1] for k, v in h.values.items()} for st, h in hs.items()}
    for st, want in PINNED['video_ae']['last'].items():
        for k, v in want.items():
            # the flow's NLL is a sum over a small batch of 3-step flow trainings: a freshly built environment of the same
            # pinned torch moved it by 6e-4 relative (-21.0464 against -21.0344) with no code change, while every other
            # stage's value stayed within 2e-4
            tol = 2e-3 if st == 'flow' else 2e-4
            assert math.isclose(last[st][k], v, rel_tol=tol, abs_tol=2e-6), (st, k, last[st][k], v)
    ws = [weight_sum(m) for m in (model.encoder, model.decoder, model.image_encoder, model.flow)]
    for a, b in zip(ws, PINNED['video_ae']['w']): assert close(a, b), (a, b)
    assert files(tmp_path) == PINNED['video_ae']['files']


def test_cinn(tmp_path):
    from singan_gif_lib.cinn import ConditionalINN, train_cinn
    torch.manual_seed(0); z, cc = torch.randn(128, 4) * 2 + 1, torch.eye(2)[torch.randint(0, 2, (128,))]
    torch.manual_seed(1); m = ConditionalINN(4, 2, n_blocks=2, hidden=8)
    h = train_cinn(m, z, cc, 10, lr=1e-2, batch_size=32, device='cpu', show_progress=False, out_dir=tmp_path)
    check('cinn', {k: v[-1] for k, v in h.values.items()}, weight_sum(m), files(tmp_path))


def test_singan_gif(tmp_path):
    from test_singan_gif import clip, tiny_cfg
    from singan_gif_lib.singan_gif import train_singan_gif
    model = train_singan_gif(clip(), tiny_cfg(), tmp_path, device='cpu', progress=False)
    for h, want in zip(model.histories, PINNED['singan_gif']['last']):
        for k, v in want.items(): assert close(h.last(k), v), (k, h.last(k), v)
        assert h.last('seconds') > 0                                   # train_run logs each scale's wall time
    assert close(weight_sum(model), PINNED['singan_gif']['w']) and files(tmp_path) == PINNED['singan_gif']['files']
