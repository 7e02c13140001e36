#include "task.h"

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

QString toString(TaskState state)
{
    switch (state) {
    case TaskState::Pending:
        return u"pending"_s;
    case TaskState::Processing:
        return u"processing"_s;
    case TaskState::Processed:
        return u"processed"_s;
    case TaskState::Retrying:
        return u"retrying"_s;
    case TaskState::TimedOut:
        return u"timed_out"_s;
    case TaskState::Failed:
        return u"failed"_s;
    case TaskState::Cancelled:
        return u"cancelled"_s;
    }
    return u"failed"_s;
}

std::optional<TaskState> taskStateFromString(QStringView text)
{
    for (TaskState state : {TaskState::Pending, TaskState::Processing, TaskState::Processed, TaskState::Retrying,
                            TaskState::TimedOut, TaskState::Failed, TaskState::Cancelled}) {
        if (text == toString(state))
            return state;
    }
    return std::nullopt;
}

QString toString(AttemptOutcome outcome)
{
    switch (outcome) {
    case AttemptOutcome::Processed:
        return u"processed"_s;
    case AttemptOutcome::Retry:
        return u"retry"_s;
    case AttemptOutcome::Failed:
        return u"failed"_s;
    case AttemptOutcome::TimedOut:
        return u"timed_out"_s;
    case AttemptOutcome::Cancelled:
        return u"cancelled"_s;
    }
    return u"failed"_s;
}

} // namespace SiteRelay
