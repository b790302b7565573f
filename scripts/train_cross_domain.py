"""Train MoCoGAN-HD's cross-domain pair (Sec. 4.2) and ship it: an image generator of one domain, motion from another.

Stage `image`: a 32 px StyleGAN2 (preset 'ci', 2400 steps, as the shipped 32 px sky generator) on single frames of the
procedural clouds texture (`stylegan.texture_frames('clouds', ...)`), a domain with no video in the training data.
Stage `motion`: a motion generator (preset 'small', 1200 steps) over that frozen generator, its real videos the sky
time-lapse clips: `--dv-input frames` is the paper's cross-domain D_V (frames without the first frame concatenated),
`differences` ours (x_t - x_1); `--sky-only` keeps only the sky of the clips (`data.SkyOnlyTimelapse`).
Both stages checkpoint to `--out` every few minutes and continue with `--resume`; `--export` writes the EMA image
generator to assets/stylegan_clouds32 and the motion generator to assets/mocogan_clouds32_skymotion (what notebook 33
and `load_stylegan(32, domain='clouds')` / `load_mocogan_hd(ASSETS / 'mocogan_clouds32_skymotion.safetensors')` load).

    python scripts/train_cross_domain.py --stage all --resume --threads 1
    python scripts/train_cross_domain.py --export            (the same --dv-input / --sky-only as the training)
    python scripts/train_cross_domain.py --measure           (every trained variant -> nbs/results/cross_domain.json)
"""
import argparse, json
from pathlib import Path
import torch
from singan_gif_lib.core import ASSETS
from singan_gif_lib.stylegan import (StyleGANConfig, training_ema_generator, checkpoint_path, texture_frames, save_stylegan,
                                     train_stylegan, load_stylegan)
from singan_gif_lib.mocogan_hd import (MoCoGANHDConfig, MotionGenerator, sky_clips, train_motion_generator, save_motion_generator,
                                       generate_videos, domain_measures, cross_domain_references, load_mocogan_hd, DV_INPUTS)

ROOT = Path(__file__).resolve().parent.parent
IMAGE_CFG = dict(preset='ci', n_steps=2400)
MOTION_CFG = dict(preset='small', n_steps=1200)

def image_config() -> tuple[StyleGANConfig, object]:
    cfg = StyleGANConfig.from_preset(IMAGE_CFG['preset'], n_steps=IMAGE_CFG['n_steps'])
    return cfg, texture_frames('clouds', cfg.n_images, cfg.size, cfg.seed)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', type=Path, default=ROOT / 'runs' / 'cross_domain', help='checkpoint folder')
    p.add_argument('--stage', choices=('image', 'motion', 'all'), default='all')
    p.add_argument('--threads', type=int, default=0, help='torch threads (0: torch default)')
    p.add_argument('--resume', action='store_true', help='continue unfinished checkpoints in --out')
    p.add_argument('--export', action='store_true', help='write the finished generators to the package assets and exit')
    p.add_argument('--measure', action='store_true', help='measure every trained motion variant in --out and write nbs/results/cross_domain.json')
    p.add_argument('--n', type=int, default=64, help='videos per measurement (--measure)')
    p.add_argument('--dv-input', default='differences', choices=DV_INPUTS, help="what D_V reads: 'frames' (the paper's cross-domain choice) or 'differences'")
    p.add_argument('--sky-only', action=argparse.BooleanOptionalAction, default=True, help='real videos without the ground (default: on)')
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    icfg, frames = image_config()
    ipath = checkpoint_path(a.out / 'image', icfg, frames)
    if a.stage in ('image', 'all') and not a.export:
        train_stylegan(icfg, frames, a.out / 'image', resume=a.resume)
    G, imeta = training_ema_generator(ipath)
    if imeta['step'] < icfg.n_steps: raise SystemExit(f"{ipath}: the image generator is at step {imeta['step']} of {icfg.n_steps}; train it first")
    mcfg = MoCoGANHDConfig.from_preset(MOTION_CFG['preset'], n_steps=MOTION_CFG['n_steps'], dv_input=a.dv_input)
    videos = sky_clips(mcfg, G.size, seed=mcfg.seed, sky_only=a.sky_only)
    motion_dir = a.out / f"motion_{a.dv_input}{'_skyonly' if a.sky_only else ''}"
    if a.stage in ('motion', 'all') and not a.export:
        train_motion_generator(mcfg, G, motion_dir, resume=a.resume, dataset=videos)
    if a.measure:
        measure(G, mcfg, a.out, a.n)
        return
    if a.export:
        ig = save_stylegan(G, ASSETS / 'stylegan_clouds32.safetensors',
                           {'history': imeta['history'], 'preset': icfg.preset, 'step': imeta['step'], 'seconds': imeta['seconds'],
                            'device': imeta['device'], 'data': f"texture_frames('clouds', {icfg.n_images}, {icfg.size}, seed={icfg.seed})",
                            'trained_by': 'scripts/train_cross_domain.py --stage image (EMA generator)'})
        G = load_stylegan(path=ig)
        M, _, mmeta = load_mocogan_hd(motion_dir)                                   # its one finished checkpoint
        out = save_motion_generator(M, mcfg, G, ASSETS / 'mocogan_clouds32_skymotion.safetensors',
                                    {'train': {'steps': mmeta['step'], 'seconds': mmeta['seconds'], 'device': mmeta['device']},
                                     'history': mmeta['history'], 'videos': f"sky_clips(sky_only={a.sky_only})",
                                     'images': 'assets/stylegan_clouds32 (clouds texture)'})
        print('wrote', ig, out)

def measure(G, cfg: MoCoGANHDConfig, out: Path, n: int) -> None:
    "domain_measures of the real clips, of G without motion and of every trained motion variant; written as JSON."
    refs = cross_domain_references(cfg, n)
    rows = {f'real: {k}': domain_measures(v, refs) for k, v in refs.items()}
    for d in sorted(out.glob('motion_*')):
        M, c, meta = load_mocogan_hd(d)
        v = generate_videos(M, G, n=n, n_frames=c.n_frames, generator=torch.Generator().manual_seed(4)).cpu()
        sky_only = d.name.endswith('_skyonly')
        rows[f"D_V on {c.dv_input}, {'sky-only' if sky_only else 'full'} sky clips"] = {
            **domain_measures(v, refs), 'dv_input': c.dv_input, 'sky_only': sky_only, 'steps': meta['step'], 'seconds': meta['seconds']}
        if 'still' not in rows:
            torch.manual_seed(0)
            still = MotionGenerator(G.w_dim, M.pca_basis, M.pca_std, c.hidden_dim, step=0.0).eval()
            rows['clouds G, no motion'] = domain_measures(generate_videos(still, G, n=n, n_frames=c.n_frames,
                                                                          generator=torch.Generator().manual_seed(4)).cpu(), refs)
    path = ROOT / 'nbs' / 'results' / 'cross_domain.json'
    path.write_text(json.dumps({'n_videos': n, 'rows': rows}, indent=1) + '\n')
    for k, r in rows.items(): print(f"{k:45s} " + '  '.join(f"{m} {r[m]:.4f}" for m in ('motion', 'shift', 'swd_clouds', 'swd_sky', 'swd_sky_only')))
    print('wrote', path)

if __name__ == '__main__': main()
