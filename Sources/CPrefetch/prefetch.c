// The prefetch hints are inline functions of the header; this file only makes the target buildable.
#include "prefetch.h"
