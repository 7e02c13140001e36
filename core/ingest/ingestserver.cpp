#include "ingestserver.h"
