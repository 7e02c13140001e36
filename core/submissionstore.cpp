#include "submissionstore.h"
