/*
 * inference: a reclave workload (reactor kind, function ABI version 1, see ../README.md):
 * classifies generated feature vectors with a small fixed-weight neural network.
 *
 * Model:  a multi-layer perceptron 64 -> 128 -> 64 -> 10, ReLU after the two hidden layers,
 *         raw logits out, double precision. Its weights are fixed: reclave_init builds them
 *         once (it stands in for loading a model, so they are part of the function-point
 *         snapshot) from splitmix64 seeded with MODEL_SEED, layer by layer: the weights
 *         output neuron by output neuron (w[j][i] for i = 0..in-1), each
 *         (2u-1)*sqrt(6/in) with u = rio_unit_double, then the biases, each (2u-1)*0.05.
 *         reclave_handle only reads them (it builds them itself if reclave_init was not run).
 * Input:  {"samples":N,"seed":S}   1 <= N <= 100000. Sample k's 64 features are 2u-1 from
 *         splitmix64 seeded with S (samples in order, features in order).
 * Work:   per layer and output neuron j: acc = 0, then acc += x[i]*w[j][i] for increasing i,
 *         then acc += b[j], then ReLU (max(acc, 0), not on the last layer). The predicted
 *         class is the index of the largest logit (the lowest index on ties).
 * Output: {"samples":N,"classes":[count per class, 10],"mean_max_logit":M,"checksum":C,
 *          "first":[the 10 logits of sample 0]}
 *         mean_max_logit = (sum of each sample's largest logit, in sample order) / N, and
 *         the logits are printed "%.6f"; checksum = sum over samples k of (k+1)*(class_k+1).
 * Errors: {"error":"<reason>"} and result 1 for malformed input or a parameter out of range.
 *
 * Reuse: the model is written once at init and only read afterwards; everything else is on
 * the stack or freed within each invocation. expected/gen.py recomputes the outputs in Python
 * with the same operation order.
 */
#include <math.h>

#include "../include/reclave_io.h"

#define MODEL_SEED 0x1F2E3D4C5B6A7988ull
#define IN 64
#define H1 128
#define H2 64
#define OUT 10

static double w1[H1][IN], b1[H1], w2[H2][H1], b2[H2], w3[OUT][H2], b3[OUT];
static int model_ready;

static void init_layer(uint64_t *st, double *w, double *b, int in, int out) {
    double scale = sqrt(6.0 / in);
    for (int i = 0; i < in * out; i++) w[i] = (2.0 * rio_unit_double(st) - 1.0) * scale;
    for (int j = 0; j < out; j++) b[j] = (2.0 * rio_unit_double(st) - 1.0) * 0.05;
}

__attribute__((export_name("reclave_init")))
void reclave_init(void) {
    uint64_t st = MODEL_SEED;
    init_layer(&st, &w1[0][0], b1, IN, H1);
    init_layer(&st, &w2[0][0], b2, H1, H2);
    init_layer(&st, &w3[0][0], b3, H2, OUT);
    model_ready = 1;
}

/* y = w x + b, then ReLU when relu is set. */
static void dense(const double *w, const double *b, const double *x, double *y, int in, int out,
                  int relu) {
    for (int j = 0; j < out; j++) {
        const double *wj = w + (size_t)j * in;
        double acc = 0;
        for (int i = 0; i < in; i++) acc += x[i] * wj[i];
        acc += b[j];
        y[j] = relu && acc < 0 ? 0 : acc;
    }
}

static int run(const char *doc, struct rio_buf *out, char *err, size_t errlen) {
    uint64_t n, seed;
    if (rio_param_u64(doc, "samples", 1, 100000, &n, err, errlen) ||
        rio_param_u64(doc, "seed", 0, UINT64_MAX, &seed, err, errlen))
        return -1;
    if (!model_ready) reclave_init();
    uint64_t st = seed, classes[OUT] = {0}, checksum = 0;
    double x[IN], h1[H1], h2[H2], logits[OUT], first[OUT], max_sum = 0;
    for (uint64_t k = 0; k < n; k++) {
        for (int i = 0; i < IN; i++) x[i] = 2.0 * rio_unit_double(&st) - 1.0;
        dense(&w1[0][0], b1, x, h1, IN, H1, 1);
        dense(&w2[0][0], b2, h1, h2, H1, H2, 1);
        dense(&w3[0][0], b3, h2, logits, H2, OUT, 0);
        int best = 0;
        for (int c = 1; c < OUT; c++)
            if (logits[c] > logits[best]) best = c;
        classes[best]++;
        checksum += (k + 1) * (uint64_t)(best + 1);
        max_sum += logits[best];
        if (k == 0) memcpy(first, logits, sizeof first);
    }
    int bad = rio_printf(out, "{\"samples\":%llu,\"classes\":[", (unsigned long long)n);
    for (int c = 0; c < OUT; c++)
        bad |= rio_printf(out, "%s%llu", c ? "," : "", (unsigned long long)classes[c]);
    bad |= rio_printf(out, "],\"mean_max_logit\":%.6f,\"checksum\":%llu,\"first\":[",
                      max_sum / (double)n, (unsigned long long)checksum);
    for (int c = 0; c < OUT; c++) bad |= rio_printf(out, "%s%.6f", c ? "," : "", first[c]);
    bad |= rio_append(out, "]}", 2);
    if (bad) {
        snprintf(err, errlen, "out of memory formatting the output");
        return -1;
    }
    return 0;
}

__attribute__((export_name("reclave_handle")))
int reclave_handle(void) { return rio_serve(run); }
