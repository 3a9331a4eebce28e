#pragma once
// dlib's optimisers without its BLAS bindings. Debian's dlib/config.h turns BLAS and LAPACK on;
// for the 5- and 10-vectors of our fits a BLAS call costs more than its arithmetic (the bindings
// were about 40% of `law fit`'s time), and without them nothing needs linking. Include dlib only
// through this header, so that every translation unit instantiates the same dlib templates.
// config.h has no include guard; the only two dlib headers that include it have one, so they
// go first and the settings stay undone afterwards.
#include <dlib/assert.h>
#include <dlib/test_for_odr_violations.h>
#undef DLIB_USE_BLAS
#undef DLIB_USE_LAPACK
#include <dlib/optimization.h>
