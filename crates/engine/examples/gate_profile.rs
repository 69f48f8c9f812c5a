//! Breaks one 12 MP verdict into its stages (probe, reduced decode, downscale, measures).
//! `cargo run --release -p engine --example gate_profile -- FILE.jpg`
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]
use std::time::Instant;

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: gate_profile FILE.jpg");
    let bytes = std::fs::read(path).unwrap();
    let limits = engine::IntakeLimits::default();
    let n = 20;
    let time = |label: &str, f: &mut dyn FnMut()| {
        f();
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        println!(
            "{label:<28} {:>8.2} ms",
            t.elapsed().as_secs_f64() * 1000.0 / f64::from(n)
        );
    };
    time("probe (header, EXIF)", &mut || {
        std::hint::black_box(engine::probe(&bytes, &limits).unwrap());
    });
    time("probe + reduced decode", &mut || {
        std::hint::black_box(engine::decode_for_gate(&bytes, &limits, usize::MAX / 2).unwrap());
    });
    time("decode_for_gate (to 512)", &mut || {
        std::hint::black_box(engine::decode_for_gate(&bytes, &limits, 512).unwrap());
    });
    time("decode_for_gate (to 400: 1/8)", &mut || {
        std::hint::black_box(engine::decode_for_gate(&bytes, &limits, 400).unwrap());
    });
    let g = engine::decode_for_gate(&bytes, &limits, 512).unwrap();
    time("measures on working image", &mut || {
        std::hint::black_box(engine::quality::measure(&g.luma, g.width, g.height));
    });
}
