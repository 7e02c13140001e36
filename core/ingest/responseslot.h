#pragma once

#include "apiresponse.h"

#include <memory>

namespace SiteRelay {

/**
 * Where the answer to one request goes, possibly long after the handler returned (e.g. once the
 * group commit holding the submission is done). Safe against the client having gone: send()
 * writes only while the socket still exists and is connected, checked on the server thread.
 * Move-only; send() at most once. If it is destroyed unsent on the server thread while the client
 * is still there, the client gets a 500 rather than waiting forever.
 */
class ResponseSlot
{
public:
    ResponseSlot();
    ResponseSlot(ResponseSlot &&other) noexcept;
    ResponseSlot &operator=(ResponseSlot &&other) noexcept;
    ~ResponseSlot();

    /// Must be called on the server thread.
    void send(const ApiResponse &response);
    bool isSent() const;

    struct Private;
    explicit ResponseSlot(std::unique_ptr<Private> d);

private:
    std::unique_ptr<Private> d;
};

} // namespace SiteRelay
