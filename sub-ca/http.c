/* sub-ca/http.c: being written */
#include "config.h"
