/* lint-models.h: force-included by scripts/lint.sh only, never by the build.
 * cJSON's type tests are documented to return false for NULL, but the
 * analyzer cannot see into the library: these macros state that contract so
 * `if (cJSON_IsString(v)) use(v->valuestring)` is not reported as a NULL
 * dereference. */
#include <cjson/cJSON.h>
#define cJSON_IsString(x) ((x) != NULL && ((x)->type & 0xFF) == cJSON_String)
#define cJSON_IsNumber(x) ((x) != NULL && ((x)->type & 0xFF) == cJSON_Number)
#define cJSON_IsObject(x) ((x) != NULL && ((x)->type & 0xFF) == cJSON_Object)
#define cJSON_IsArray(x) ((x) != NULL && ((x)->type & 0xFF) == cJSON_Array)
#define cJSON_IsBool(x) ((x) != NULL && ((x)->type & (cJSON_True | cJSON_False)) != 0)
#define cJSON_IsTrue(x) ((x) != NULL && ((x)->type & 0xFF) == cJSON_True)
#define cJSON_IsNull(x) ((x) != NULL && ((x)->type & 0xFF) == cJSON_NULL)
