#include "submissionparser.h"
