// tjprobe: decodes JPEGs through libjpeg-turbo exactly as crates/engine/src/intake.rs
// `decode_jpeg_reduced` drives it (turbojpeg 1.5.1 over libjpeg-turbo 3.1.0): read the header,
// pick the smallest DCT scale whose long side stays >= 15/16 of 512 px (none for lossless),
// decompress to 8-bit GRAY. Prints one line per argument: index, status, size, message.
// tj3GetErrorStr is the text the station puts after "the JPEG file is corrupt/truncated: ".
//
// Optional helper for verify_corpus.py --tjprobe; it needs the static library that any build
// of the project leaves behind (no cargo run needed):
//   D=$(dirname $(find ~/.cache/review-station/target target -name libturbojpeg.a -path '*out/lib/*' 2>/dev/null | head -1))/..
//   gcc -O1 -I$D/include tools/hostile_corpus/tjprobe.c $D/lib/libturbojpeg.a -lm -o /tmp/tjprobe
#include <stdio.h>
#include <stdlib.h>
#include <turbojpeg.h>

static size_t scaled(size_t d, int num, int den) { return (d * num + den - 1) / den; }

int main(int argc, char **argv) {
  const size_t max_long_side = 512;  // config/quality-gate.toml working_long_side
  for (int a = 1; a < argc; a++) {
    FILE *f = fopen(argv[a], "rb");
    if (!f) { printf("%d\tOPENFAIL\t-\t-\n", a); continue; }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(n ? n : 1);
    if (fread(buf, 1, n, f) != (size_t)n) { printf("%d\tREADFAIL\t-\t-\n", a); fclose(f); free(buf); continue; }
    fclose(f);
    tjhandle h = tj3Init(TJINIT_DECOMPRESS);
    if (tj3DecompressHeader(h, buf, n) != 0) {
      printf("%d\tHEADER_ERR\t-\t%s\n", a, tj3GetErrorStr(h));
      tj3Destroy(h); free(buf); continue;
    }
    int w = tj3Get(h, TJPARAM_JPEGWIDTH), ht = tj3Get(h, TJPARAM_JPEGHEIGHT);
    if (w <= 0 || ht <= 0) {
      printf("%d\tHEADER_ERR\t%dx%d\tno size in the header\n", a, w, ht);
      tj3Destroy(h); free(buf); continue;
    }
    size_t long_side = w > ht ? w : ht;
    int num = 1, den = 1;
    const int dens[3] = {8, 4, 2};
    for (int i = 0; i < 3; i++)
      if (scaled(long_side, 1, dens[i]) * 16 >= max_long_side * 15) { den = dens[i]; break; }
    if (tj3Get(h, TJPARAM_LOSSLESS)) den = 1;
    tjscalingfactor sf = {num, den};
    if (tj3SetScalingFactor(h, sf) != 0) {
      printf("%d\tSCALE_ERR\t%dx%d\t%s\n", a, w, ht, tj3GetErrorStr(h));
      tj3Destroy(h); free(buf); continue;
    }
    size_t sw = scaled(w, num, den), sh = scaled(ht, num, den);
    unsigned char *out = malloc(sw * sh);
    if (!out) { printf("%d\tNOMEM\t%dx%d\t-\n", a, w, ht); tj3Destroy(h); free(buf); continue; }
    if (tj3Decompress8(h, buf, n, out, (int)sw, TJPF_GRAY) != 0)
      printf("%d\tDECODE_ERR\t%dx%d\t%s\n", a, w, ht, tj3GetErrorStr(h));
    else
      printf("%d\tOK\t%dx%d\tscale %d/%d\n", a, w, ht, num, den);
    free(out); tj3Destroy(h); free(buf);
  }
  return 0;
}
