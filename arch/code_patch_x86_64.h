// Sending every call of another object's function to one of ptshim's, by
// overwriting the function's first instruction bytes with a jump.
#pragma once

namespace ptshim::arch {

// Afterwards every call of `function`, from any object and through any
// pointer to it, runs `replacement` instead, with the same arguments and the
// same return address. False if the code could not be made writable (the
// function is unchanged then).
bool redirect_function(void* function, const void* replacement);

}  // namespace ptshim::arch
