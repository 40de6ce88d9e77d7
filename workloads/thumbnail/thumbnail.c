/*
 * thumbnail: a reclave workload (reactor kind, function ABI version 1, see ../README.md):
 * generates an RGB image and shrinks it to a thumbnail with an area-averaging (box) filter.
 *
 * Input:  {"width":W,"height":H,"out_width":w,"out_height":h,"seed":S}
 *         1 <= W, H <= 8192, W*H <= 8388608 (8 Mpixel), 1 <= w <= W, 1 <= h <= H.
 * Image:  8-bit RGB, row-major, generated in integer arithmetic (r = next() of splitmix64
 *         seeded with S):
 *           1. gradient: R = 256*x/W, G = 256*y/H, B = 256*(x+y)/(W+H) (integer division);
 *           2. 24 discs, each drawn in order from 6 draws: cx = r%W, cy = r%H,
 *              rad = 1 + r % (min(W,H)/4 + 1), then R, G, B = r & 255 for the colour: every
 *              pixel with (x-cx)^2 + (y-cy)^2 <= rad^2 becomes (old + colour) / 2 per channel;
 *           3. noise: per pixel in row-major order one draw r; channel c (R=0, G=1, B=2) gets
 *              ((r >> 8c) & 31) - 16 added, clamped to [0, 255].
 * Work:   output pixel (ox, oy) is the rounded mean, (sum + count/2) / count per channel, of
 *         the source pixels x in [ox*W/w, ceil((ox+1)*W/w)), y in [oy*H/h, ceil((oy+1)*H/h))
 *         (rows first: each source row is averaged horizontally into a row of column sums,
 *         then those are summed over the output row's source rows).
 * Output: {"width":w,"height":h,"sum":[R,G,B],"fnv1a":"0x<16 hex>","corner":[R,G,B],
 *          "center":[R,G,B]}
 *         sum = per-channel sums over the thumbnail; fnv1a = FNV-1a 64 over its bytes
 *         (RGB, row-major); corner = pixel (0,0); center = pixel (w/2, h/2).
 * Errors: {"error":"<reason>"} and result 1 for malformed input or a parameter out of range.
 *
 * Reuse: no static state; the image buffers are malloc'd and freed within each invocation.
 * expected/gen.py recomputes the outputs in Python.
 */
#include "../include/reclave_io.h"

#define DISCS 24

static inline uint8_t clamp255(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

static void generate(uint8_t *img, uint32_t W, uint32_t H, uint64_t seed) {
    uint64_t st = seed;
    for (uint32_t y = 0; y < H; y++) {
        uint8_t *row = img + (size_t)y * W * 3;
        for (uint32_t x = 0; x < W; x++) {
            row[3 * x] = (uint8_t)(256u * x / W);
            row[3 * x + 1] = (uint8_t)(256u * y / H);
            row[3 * x + 2] = (uint8_t)(256ull * (x + y) / ((uint64_t)W + H));
        }
    }
    uint32_t maxrad = (W < H ? W : H) / 4 + 1;
    for (int d = 0; d < DISCS; d++) {
        int64_t cx = (int64_t)(rio_splitmix64(&st) % W);
        int64_t cy = (int64_t)(rio_splitmix64(&st) % H);
        int64_t rad = 1 + (int64_t)(rio_splitmix64(&st) % maxrad);
        uint8_t col[3];
        for (int c = 0; c < 3; c++) col[c] = (uint8_t)(rio_splitmix64(&st) & 255);
        int64_t y0 = cy - rad < 0 ? 0 : cy - rad, y1 = cy + rad >= H ? H - 1 : cy + rad;
        int64_t x0 = cx - rad < 0 ? 0 : cx - rad, x1 = cx + rad >= W ? W - 1 : cx + rad;
        for (int64_t y = y0; y <= y1; y++) {
            uint8_t *row = img + (size_t)y * W * 3;
            for (int64_t x = x0; x <= x1; x++) {
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) > rad * rad) continue;
                for (int c = 0; c < 3; c++)
                    row[3 * x + c] = (uint8_t)((row[3 * x + c] + col[c]) / 2);
            }
        }
    }
    size_t n = (size_t)W * H;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = rio_splitmix64(&st);
        for (int c = 0; c < 3; c++)
            img[3 * i + c] = clamp255(img[3 * i + c] + (int)((r >> (8 * c)) & 31) - 16);
    }
}

/* Box-filters img (W x H) into out (w x h). colsum has room for 3*w sums. */
static void shrink(const uint8_t *img, uint32_t W, uint32_t H, uint8_t *out, uint32_t w,
                   uint32_t h, uint64_t *colsum) {
    for (uint32_t oy = 0; oy < h; oy++) {
        uint32_t sy0 = (uint32_t)((uint64_t)oy * H / h);
        uint32_t sy1 = (uint32_t)(((uint64_t)(oy + 1) * H + h - 1) / h);
        memset(colsum, 0, 3 * (size_t)w * sizeof *colsum);
        for (uint32_t sy = sy0; sy < sy1; sy++) {
            const uint8_t *row = img + (size_t)sy * W * 3;
            for (uint32_t ox = 0; ox < w; ox++) {
                uint32_t sx0 = (uint32_t)((uint64_t)ox * W / w);
                uint32_t sx1 = (uint32_t)(((uint64_t)(ox + 1) * W + w - 1) / w);
                uint64_t s0 = 0, s1 = 0, s2 = 0;
                for (uint32_t sx = sx0; sx < sx1; sx++) {
                    s0 += row[3 * sx];
                    s1 += row[3 * sx + 1];
                    s2 += row[3 * sx + 2];
                }
                colsum[3 * ox] += s0;
                colsum[3 * ox + 1] += s1;
                colsum[3 * ox + 2] += s2;
            }
        }
        for (uint32_t ox = 0; ox < w; ox++) {
            uint32_t sx0 = (uint32_t)((uint64_t)ox * W / w);
            uint32_t sx1 = (uint32_t)(((uint64_t)(ox + 1) * W + w - 1) / w);
            uint64_t count = (uint64_t)(sx1 - sx0) * (sy1 - sy0);
            for (int c = 0; c < 3; c++)
                out[((size_t)oy * w + ox) * 3 + c] =
                    (uint8_t)((colsum[3 * ox + c] + count / 2) / count);
        }
    }
}

static int run(const char *doc, struct rio_buf *out, char *err, size_t errlen) {
    uint64_t W, H, w, h, seed;
    if (rio_param_u64(doc, "width", 1, 8192, &W, err, errlen) ||
        rio_param_u64(doc, "height", 1, 8192, &H, err, errlen) ||
        rio_param_u64(doc, "out_width", 1, W, &w, err, errlen) ||
        rio_param_u64(doc, "out_height", 1, H, &h, err, errlen) ||
        rio_param_u64(doc, "seed", 0, UINT64_MAX, &seed, err, errlen))
        return -1;
    if (W * H > 8388608) {
        snprintf(err, errlen, "width*height must be at most 8388608");
        return -1;
    }
    uint8_t *img = malloc((size_t)(W * H * 3));
    uint8_t *th = malloc((size_t)(w * h * 3));
    uint64_t *colsum = malloc((size_t)w * 3 * sizeof *colsum);
    int rc = -1;
    if (!img || !th || !colsum) {
        snprintf(err, errlen, "out of memory for a %llux%llu image", (unsigned long long)W,
                 (unsigned long long)H);
        goto done;
    }
    generate(img, (uint32_t)W, (uint32_t)H, seed);
    shrink(img, (uint32_t)W, (uint32_t)H, th, (uint32_t)w, (uint32_t)h, colsum);

    uint64_t sum[3] = {0, 0, 0}, fnv = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < (size_t)(w * h * 3); i++) {
        sum[i % 3] += th[i];
        fnv = (fnv ^ th[i]) * 0x100000001b3ull;
    }
    const uint8_t *c0 = th, *cm = th + ((size_t)(h / 2) * w + w / 2) * 3;
    if (rio_printf(out,
                   "{\"width\":%llu,\"height\":%llu,\"sum\":[%llu,%llu,%llu],"
                   "\"fnv1a\":\"0x%016llx\",\"corner\":[%u,%u,%u],\"center\":[%u,%u,%u]}",
                   (unsigned long long)w, (unsigned long long)h, (unsigned long long)sum[0],
                   (unsigned long long)sum[1], (unsigned long long)sum[2],
                   (unsigned long long)fnv, c0[0], c0[1], c0[2], cm[0], cm[1], cm[2])) {
        snprintf(err, errlen, "out of memory formatting the output");
        goto done;
    }
    rc = 0;
done:
    free(img);
    free(th);
    free(colsum);
    return rc;
}

__attribute__((export_name("reclave_handle")))
int reclave_handle(void) { return rio_serve(run); }
