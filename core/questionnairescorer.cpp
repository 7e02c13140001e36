#include "questionnairescorer.h"
