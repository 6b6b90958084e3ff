/* sub-ca/template.c: being written */
#include "config.h"
